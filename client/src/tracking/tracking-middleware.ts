import type {
  DBCore,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreTable,
  DBCoreTransaction,
  Middleware,
} from 'dexie';
import { ConcordError, checkRow, sameValue, tableOf, type Schema, type TableDef } from '@concord/shared';
import { TRACKING_TABLES, type OutboxEntry } from '../storage/replica-db';
import { changeBytes, roughBytes, wireChange } from '../storage/wire-change';
import { coalesce } from './coalesce';
import { mayHoldAny, readExisting } from './read-existing';
import { createTransactionState } from './transaction-state';

type Row = Record<string, unknown>;

/** A change's bytes besides its values and base values, at most: keys, ids and generations. */
const ROUGH_CHANGE_BYTES = 1_024;

export interface TrackingOptions {
  schema: Schema;
  /** True for transactions of the sync engine itself: their writes are not tracked. */
  isSyncTransaction(trans: DBCoreTransaction): boolean;
  /** Makes a rowguid for a row written without one (UUIDv7). */
  newRowguid(): string;
  /** Most changes stamped with one local generation; larger transactions get several. */
  generationSize: number;
  /** Called after a transaction with tracked writes commits. */
  onCommit?(): void;
}

/**
 * Records every write to a replicated table in the outbox, in the same IndexedDB transaction
 * as the write itself: the write and its record commit or fail together.
 */
export function createTrackingMiddleware(options: TrackingOptions): Middleware<DBCore> {
  const { schema } = options;
  return {
    stack: 'dbcore',
    name: 'concord-tracking',
    // Below Dexie's own layers that need its transaction zone (hooks, liveQuery cache and
    // observability), which this middleware's awaits leave; app writes still pass through them.
    level: -0.5,
    create(down) {
      const state = createTransactionState(down.table('_state'), options.generationSize);
      const watched = new WeakSet<DBCoreTransaction>();
      // Tracked writes of one transaction run one after another, so each sees the outbox the
      // previous left. A tracked write reads before it writes, so the app's own requests made
      // after it wait for it too: IndexedDB runs a transaction's requests in the order they are
      // made, and the app must see exactly that order (a get after an unawaited put sees the put).
      const tails = new WeakMap<DBCoreTransaction, Promise<unknown>>();
      const serially = <T>(trans: DBCoreTransaction, job: () => Promise<T>): Promise<T> => {
        const result = (tails.get(trans) ?? Promise.resolve()).then(job);
        const tail = result.catch(() => undefined);
        tails.set(trans, tail);
        void tail.then(() => {
          if (tails.get(trans) === tail) tails.delete(trans);
        });
        return result;
      };
      /** Runs a read now, or after the tracked writes the app issued before it in the same transaction. */
      const inOrder = <T>(trans: DBCoreTransaction, read: () => Promise<T>): Promise<T> => {
        const tail = tails.get(trans);
        return tail ? tail.then(read) : read();
      };
      const watch = (trans: DBCoreTransaction) => {
        if (!options.onCommit || watched.has(trans)) return;
        watched.add(trans);
        (trans as unknown as IDBTransaction).addEventListener?.('complete', () => options.onCommit?.());
      };
      return {
        ...down,
        transaction(stores, mode, txOptions) {
          const tracked = mode === 'readwrite' && stores.some((store) => tableOf(schema, store) !== undefined);
          const scope = tracked ? [...new Set([...stores, ...TRACKING_TABLES])] : stores;
          return down.transaction(scope, mode, txOptions);
        },
        table(name) {
          const table = down.table(name);
          const def = tableOf(schema, name);
          if (!def) return table;
          return {
            ...table,
            get: (request) => inOrder(request.trans, () => table.get(request)),
            getMany: (request) => inOrder(request.trans, () => table.getMany(request)),
            query: (request) => inOrder(request.trans, () => table.query(request)),
            openCursor: (request) => inOrder(request.trans, () => table.openCursor(request)),
            count: (request) => inOrder(request.trans, () => table.count(request)),
            mutate: (request) => {
              // A database upgrade rewrites rows and outbox itself: nothing in it is an app write.
              const upgrade = (request.trans as unknown as IDBTransaction).mode === 'versionchange';
              if (upgrade || options.isSyncTransaction(request.trans)) return table.mutate(request);
              watch(request.trans);
              return serially(request.trans, () => track({ down, table, def, request, options, state }));
            },
          };
        },
      };
    },
  };
}

interface TrackContext {
  down: DBCore;
  table: DBCoreTable;
  def: TableDef;
  request: DBCoreMutateRequest;
  options: TrackingOptions;
  state: ReturnType<typeof createTransactionState>;
}

async function track({ down, table, def, request, options, state }: TrackContext): Promise<DBCoreMutateResponse> {
  const { trans } = request;
  let keys: string[];
  let afters: (Row | undefined)[];
  if (request.type === 'add' || request.type === 'put') {
    const values = request.values.map((value: Row) =>
      value[def.key] === undefined ? { ...value, [def.key]: options.newRowguid() } : value,
    );
    values.forEach((value) => checkRow(def, value));
    request = { ...request, values };
    keys = values.map((value) => value[def.key] as string);
    afters = values;
  } else {
    keys =
      request.type === 'delete'
        ? request.keys
        : (await table.query({ trans, values: false, query: { index: table.schema.primaryKey, range: request.range } }))
            .result;
    afters = keys.map(() => undefined);
  }
  if (keys.length === 0) return table.mutate(request);

  const changes = down.table('_changes');
  const outboxKeys = keys.map((key) => [def.name, key]);
  const [rowsMayExist, entriesMayExist] = await Promise.all([
    // An add fails where a row exists, so where it succeeds there was none.
    request.type !== 'add' && mayHoldAny(table, trans, keys),
    mayHoldAny(changes, trans, keys, def.name),
  ]);
  // The reads are issued before the write, so they see the rows as they were: IndexedDB runs
  // the requests of a transaction in the order they are made, and Dexie's core below this
  // middleware makes them synchronously, in call order.
  const [befores, entries, sync, response] = await Promise.all([
    readExisting<Row>(table, trans, keys, rowsMayExist),
    readExisting<OutboxEntry>(changes, trans, outboxKeys, entriesMayExist),
    state.read(trans),
    table.mutate(request),
  ]);

  refuseCrdtValues(def, trans, befores, afters);
  // Later writes to one key in the same request see the earlier ones.
  const current = new Map<string, Row | undefined>();
  const pending = new Map<string, OutboxEntry | null | undefined>();
  const { stamps, record } = state.stamp(sync, keys.length);
  keys.forEach((key, i) => {
    if (response.failures[i]) return;
    const before = current.has(key) ? current.get(key) : befores[i];
    const entry = pending.has(key) ? (pending.get(key) ?? undefined) : entries[i];
    const next = coalesce(def, {
      rowguid: key,
      before,
      after: afters[i],
      entry,
      receivedGeneration: sync.receivedGeneration,
      localGeneration: stamps[i]!,
      mayCancel: sync.inFlight == null,
    });
    current.set(key, afters[i]);
    if (next !== undefined || entry) pending.set(key, next === undefined ? entry : next);
  });

  const puts = [...pending.values()].filter((entry): entry is OutboxEntry => !!entry);
  for (const entry of puts) {
    // A change no push could carry is refused here, in the app, rather than found at sync time.
    const row = current.get(entry.rowguid);
    if (roughBytes(row ?? {}) + roughBytes(entry.base) + ROUGH_CHANGE_BYTES < sync.maxChangeBytes) continue;
    const bytes = changeBytes(wireChange(def, entry, row, Number.NaN));
    if (bytes > sync.maxChangeBytes) {
      trans.abort();
      throw new ConcordError(
        'payload_too_large',
        `${def.name}.${entry.rowguid}: this change would take ${bytes} bytes in a push (its values and the values it replaces); the server accepts at most ${sync.maxChangeBytes}`,
        { table: def.name, rowguid: entry.rowguid, bytes, maxChangeBytes: sync.maxChangeBytes },
      );
    }
  }
  const cancelled = [...pending.entries()].filter(([, entry]) => entry === null).map(([key]) => [def.name, key]);
  const writes: Promise<DBCoreMutateResponse>[] = [];
  const since = puts.length > 0 ? state.pendingFrom(sync, new Date()) : undefined;
  const records = [record, since].filter((value) => value !== undefined);
  if (records.length) writes.push(down.table('_state').mutate({ trans, type: 'put', values: records }));
  if (puts.length) writes.push(changes.mutate({ trans, type: 'put', values: puts }));
  if (cancelled.length) writes.push(changes.mutate({ trans, type: 'delete', keys: cancelled }));
  const written = await Promise.all(writes);
  // Changes that cancel out may leave nothing pending: then nothing is pending since any time.
  const emptied = puts.length === 0 && cancelled.length > 0 && (await state.emptied(sync, changes, trans));
  if (emptied) written.push(await down.table('_state').mutate({ trans, type: 'put', values: [emptied] }));
  if (written.some((result) => result.numFailures > 0)) {
    // A write must never commit without its record.
    trans.abort();
    throw new Error('the outbox could not be written; the transaction was aborted');
  }
  return response;
}

/**
 * A CRDT column's text follows its document: an app write that sets another text is refused
 * (the transaction aborted), since only edits through `replica.crdt()` change it. Writing the
 * row back with the text it holds is fine.
 */
function refuseCrdtValues(
  def: TableDef,
  trans: DBCoreTransaction,
  befores: (Row | undefined)[],
  afters: (Row | undefined)[],
) {
  if (def.crdt.length === 0) return;
  afters.forEach((after, i) => {
    const column = after && def.crdt.find((name) => !sameValue(after[name] ?? null, befores[i]?.[name] ?? null));
    if (!column) return;
    trans.abort();
    throw new ConcordError(
      'invalid_value',
      `"${def.name}.${column}" is a crdt column: edit its text through replica.crdt(), not by writing a value`,
      { table: def.name, column },
    );
  });
}
