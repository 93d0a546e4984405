import type {
  DBCore,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreTable,
  DBCoreTransaction,
  Middleware,
} from 'dexie';
import type { Schema, TableDef } from '@concord/shared';
import { TRACKING_TABLES, type OutboxEntry, type StateRecord } from '../storage/replica-db';
import { coalesce } from './coalesce';
import { checkRow } from './row-values';

type Row = Record<string, unknown>;

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
      const generations = createGenerationAllocator(down.table('_state'), options.generationSize);
      const watched = new WeakSet<DBCoreTransaction>();
      // Tracked writes of one transaction run one after another, so each sees the outbox the previous left.
      const queues = new WeakMap<DBCoreTransaction, Promise<unknown>>();
      const serially = <T>(trans: DBCoreTransaction, job: () => Promise<T>): Promise<T> => {
        const result = (queues.get(trans) ?? Promise.resolve()).then(job);
        queues.set(
          trans,
          result.catch(() => undefined),
        );
        return result;
      };
      const watch = (trans: DBCoreTransaction) => {
        if (!options.onCommit || watched.has(trans)) return;
        watched.add(trans);
        (trans as unknown as IDBTransaction).addEventListener?.('complete', () => options.onCommit?.());
      };
      return {
        ...down,
        transaction(stores, mode, txOptions) {
          const tracked = mode === 'readwrite' && stores.some((store) => store in schema.tables);
          const scope = tracked ? [...new Set([...stores, ...TRACKING_TABLES])] : stores;
          return down.transaction(scope, mode, txOptions);
        },
        table(name) {
          const table = down.table(name);
          const def = schema.tables[name];
          if (!def) return table;
          return {
            ...table,
            mutate: (request) => {
              if (options.isSyncTransaction(request.trans)) return table.mutate(request);
              watch(request.trans);
              return serially(request.trans, () => track({ down, table, def, request, options, generations }));
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
  generations: ReturnType<typeof createGenerationAllocator>;
}

async function track({ down, table, def, request, options, generations }: TrackContext): Promise<DBCoreMutateResponse> {
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
  const [befores, entries, state] = await Promise.all([
    // An add fails where a row exists, so where it succeeds there was none.
    request.type === 'add'
      ? keys.map(() => undefined)
      : (table.getMany({ trans, keys }) as Promise<(Row | undefined)[]>),
    changes.getMany({ trans, keys: outboxKeys }) as Promise<(OutboxEntry | undefined)[]>,
    readState(down, trans),
  ]);

  const response = await table.mutate(request);

  // Later writes to one key in the same request see the earlier ones.
  const current = new Map<string, Row | undefined>();
  const pending = new Map<string, OutboxEntry | null | undefined>();
  const stamps = await generations(trans, keys.length);
  keys.forEach((key, i) => {
    if (response.failures[i]) return;
    const before = current.has(key) ? current.get(key) : befores[i];
    const entry = pending.has(key) ? (pending.get(key) ?? undefined) : entries[i];
    const next = coalesce(def, {
      rowguid: key,
      before,
      after: afters[i],
      entry,
      receivedGeneration: state.receivedGeneration,
      localGeneration: stamps[i]!,
      mayCancel: state.inFlight == null,
    });
    current.set(key, afters[i]);
    if (next !== undefined || entry) pending.set(key, next === undefined ? entry : next);
  });

  const puts = [...pending.values()].filter((entry): entry is OutboxEntry => !!entry);
  const cancelled = [...pending.entries()].filter(([, entry]) => entry === null).map(([key]) => [def.name, key]);
  if (puts.length) await changes.mutate({ trans, type: 'put', values: puts });
  if (cancelled.length) await changes.mutate({ trans, type: 'delete', keys: cancelled });
  return response;
}

/** The sync state a write needs: the download cursor (its base generation) and whether an upload is in flight. */
async function readState(down: DBCore, trans: DBCoreTransaction) {
  const keys = ['receivedGeneration', 'inFlight'];
  const [received, inFlight] = (await down.table('_state').getMany({ trans, keys })) as (StateRecord | undefined)[];
  return { receivedGeneration: (received?.value as number | undefined) ?? 0, inFlight: inFlight?.value };
}

/**
 * Local generations: one per transaction (read and bumped in `_state` inside it, so tabs sharing
 * the database never collide), and a new one every `size` changes, so no generation is larger
 * than one upload batch. Calls for one transaction never overlap (tracked writes run serially).
 */
function createGenerationAllocator(state: DBCoreTable, size: number) {
  const open = new WeakMap<DBCoreTransaction, { generation: number; used: number }>();
  const next = async (trans: DBCoreTransaction) => {
    const [record] = (await state.getMany({ trans, keys: ['localGeneration'] })) as (StateRecord | undefined)[];
    const generation = ((record?.value as number | undefined) ?? 0) + 1;
    await state.mutate({ trans, type: 'put', values: [{ key: 'localGeneration', value: generation }] });
    return { generation, used: 0 };
  };
  /** The local generation of each of `count` changes. */
  return async (trans: DBCoreTransaction, count: number): Promise<number[]> => {
    const stamps: number[] = [];
    let current = open.get(trans);
    for (let i = 0; i < count; i++) {
      if (!current || current.used === size) current = await next(trans);
      current.used++;
      stamps.push(current.generation);
    }
    if (current) open.set(trans, current);
    return stamps;
  };
}
