import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { openReplica, type Replica } from '@concord/client';
import { ConcordError, type ConflictEntry } from '@concord/shared';
import type { Store } from '@concord/server';
import { fuzzSchema, RANKS, resolverConfig } from './fuzz-config';
import { createFuzzServer, type FuzzBackend } from './fuzz-server';
import { judge } from './judge';
import { createNetwork, type WireDefect } from './network';
import { describeOp } from './describe-op';
import { COLUMNS, type FuzzCase, type Op, type TableName, type Write } from './ops';
import { OracleFailure, type Check } from './oracle';
import { fuzzAuth } from './fuzz-auth';
import { signReplicaTokens } from './replica-tokens';
import { performWrites, stringLengths, uniqueValue, type WriteRecord } from './writes';

export { OracleFailure } from './oracle';

/** Planted defects, for proving that the oracle can fail. */
export interface RunOptions {
  defect?: WireDefect;
  wrapStore?: (store: Store) => Store;
  /** Log every exchange on the wire into the failure message (for debugging a counterexample). */
  verbose?: boolean;
  /** The server's store: SQLite (default) or PostgreSQL. */
  backend?: FuzzBackend;
}

/** What one run did, for the totals. */
export interface RunReport {
  ops: number;
  writes: number;
  syncs: number;
  failedSyncs: number;
  faults: Partial<Record<string, number>>;
  conflicts: ConflictEntry[];
}

interface Slot {
  idb: IDBFactory;
  name: string;
  replica: Replica;
}

/** Errors a sync may end with while faults are injected: network failures and injected 500s. */
const expected = (error: unknown) =>
  error instanceof ConcordError && (error.code === 'unavailable' || error.message.includes('injected fault'));

/**
 * A round may also end with a refusal that recovering from a restored store answers, when the
 * store was restored again while the recovery ran (the next round recovers again).
 */
const RECOVERY_CODES = new Set(['cursor_unknown', 'generation_gap', 'unknown_replica', 'epoch_changed']);

/**
 * A round that left a change too large for any push pending (the replica's own report, naming
 * the rows): those rows. A `413` from the server, which names none, is not one: the replica
 * must never send a push the server refuses as too large.
 */
const oversizedRows = (error: unknown): { table: string; rowguid: string }[] | undefined => {
  if (!(error instanceof ConcordError) || error.code !== 'payload_too_large') return undefined;
  const changes = (error.details as { changes?: unknown } | undefined)?.changes;
  return Array.isArray(changes) ? (changes as { table: string; rowguid: string }[]) : undefined;
};

/**
 * Runs one fuzz case: N replicas on fake-indexeddb and one restartable SQLite server behind a
 * fault-injecting network execute the ops; then the network heals, every replica syncs until
 * quiescent, and the oracle judges. Throws `OracleFailure` (with the op trace) on a finding.
 * Deterministic: ids, clocks and jitter are injected, so a case always runs the same way.
 */
export async function runCase(fuzzCase: FuzzCase, options: RunOptions = {}): Promise<RunReport> {
  const { config } = fuzzCase;
  const N = config.replicas;
  const ops = fuzzCase.ops.map((op) => onReplicas(op, N));
  let tick = 0;
  const now = () => new Date(Date.UTC(2024, 0, 1) + ++tick * 1000);
  let ids = 0;
  let registered = 0;
  const server = await createFuzzServer({
    schema: fuzzSchema,
    resolvers: resolverConfig(config.resolver),
    replicaPriority: config.ranked ? () => RANKS[registered++ % RANKS.length]! : undefined,
    now,
    newId: () => `id-${String(++ids).padStart(8, '0')}`,
    wrapStore: options.wrapStore,
    backend: options.backend,
    maxBodyBytes: config.maxBodyBytes || undefined,
    auth: fuzzAuth,
  });
  const network = createNetwork(server, N, {
    tokens: await signReplicaTokens(N),
    defect: options.defect,
    verbose: options.verbose,
    clock: () => writes.length,
    schema: fuzzSchema,
  });
  const stringLength = stringLengths(config.maxBodyBytes);
  const writes: WriteRecord[] = [];
  const trace: string[] = [];
  const report: RunReport = { ops: 0, writes: 0, syncs: 0, failedSyncs: 0, faults: network.fired, conflicts: [] };
  let values = 0;
  const open = (index: number, idb: IDBFactory, name: string) =>
    openReplica({
      schema: fuzzSchema,
      url: 'http://concord.fuzz',
      fetch: network.fetchFor(index),
      token: network.tokenFor(index),
      indexedDB: idb,
      IDBKeyRange,
      name,
      events: new EventTarget(),
      maxUploadChanges: config.maxUploadChanges,
      maxDownloadChanges: config.maxDownloadChanges,
      now,
      random: () => 0.5,
    });
  const slots: Slot[] = [];
  const fail = (checks: Check[], message: string): never => {
    const faults = network.log.slice(options.verbose ? 0 : -40).join('\n  ');
    throw new OracleFailure(checks, `${message}\ntrace:\n  ${trace.join('\n  ')}\nfaults fired:\n  ${faults}`);
  };

  const write = async (index: number, batch: readonly Write[]) => {
    const slot = slots[index]!;
    const ctx = { schema: fuzzSchema, replica: index, next: () => ++values, stringLength };
    const done = await performWrites(slot.replica.db, batch, ctx).catch((error: unknown) => {
      // A change no push could carry is refused at the write, and nothing of the transaction is
      // written: the write never happened (the oracle checks that none of its values shows up).
      if (config.maxBodyBytes && error instanceof ConcordError && error.code === 'payload_too_large') return undefined;
      return fail(['accounting'], `a local write failed: ${String(error)}`);
    });
    if (!done) {
      network.count('write-refused');
      return 'refused: payload_too_large';
    }
    for (const record of done) writes.push({ ...record, id: writes.length + 1 });
    const names = done.map((record) => `${record.op === 'delete' ? '-' : '+'}${record.rowguid}`);
    return names.length > 0 ? `wrote ${names.join(' ')}` : 'wrote nothing';
  };
  /**
   * The final heal edits a change too large for any push smaller, as the app must: one written
   * before the replica learnt the server's limit stays pending until then. Only the huge
   * strings are replaced (the oracle lets a heal edit overwrite nothing else), each with a
   * unique small value; the edit is a write like any other.
   */
  const shrink = async (index: number, rows: readonly { table: string; rowguid: string }[]) => {
    const db = slots[index]!.replica.db;
    const huge = (value: unknown) => typeof value === 'string' && value.length > config.maxBodyBytes / 2;
    const edits: WriteRecord[] = [];
    await db.transaction('rw', [...new Set(rows.map((row) => row.table))], async (tx) => {
      for (const { table, rowguid } of rows) {
        const row = (await tx.table(table).get(rowguid)) as Record<string, unknown> | undefined;
        const columns = COLUMNS[table as TableName].filter((column) => huge(row?.[column]));
        if (columns.length === 0) continue;
        const changed = Object.fromEntries(columns.map((column) => [column, uniqueValue('string', ++values, 0)]));
        await tx.table(table).update(rowguid, changed);
        edits.push({
          id: 0,
          replica: index,
          table: table as TableName,
          rowguid,
          op: 'upsert',
          values: changed,
          created: false,
          heal: true,
        });
      }
    });
    if (edits.length === 0) {
      fail(
        ['final-sync'],
        `r${index}: sync reports changes too large for any push, with no huge value to edit: ${JSON.stringify(rows)}`,
      );
    }
    for (const record of edits) writes.push({ ...record, id: writes.length + 1 });
    network.count('oversized-healed');
    trace.push(
      `heal: r${index} edits ${edits.map((e) => `${e.table}/${e.rowguid} {${Object.keys(e.values)}}`).join(', ')} smaller`,
    );
  };
  const sync = async (index: number, twice = false, faults = true): Promise<boolean> => {
    const slot = slots[index]!;
    network.beginSync(index);
    try {
      const rounds = twice ? [slot.replica.sync(), slot.replica.sync()] : [slot.replica.sync()];
      const outcomes = await Promise.allSettled(rounds);
      report.syncs += rounds.length;
      let moved = false;
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') {
          moved ||= outcome.value.uploaded > 0 || outcome.value.downloaded > 0;
          continue;
        }
        report.failedSyncs++;
        const oversized = config.maxBodyBytes ? oversizedRows(outcome.reason) : undefined;
        if (oversized) {
          // Everything else went up and came down; the named changes stay pending until edited smaller.
          network.count('oversized-pending');
          if (!faults) await shrink(index, oversized);
          moved = true;
          continue;
        }
        const recovering =
          faults &&
          server.restores > 0 &&
          outcome.reason instanceof ConcordError &&
          RECOVERY_CODES.has(outcome.reason.code);
        // A request the wire sent with another replica's token fails its round, and only that round.
        const refused = faults && network.provoked(index, outcome.reason);
        if (!faults || !(expected(outcome.reason) || recovering || refused)) {
          fail(['final-sync'], `r${index}: sync failed unexpectedly: ${String(outcome.reason)}`);
        }
      }
      return moved;
    } finally {
      network.endSync(index);
    }
  };

  const execute = async (op: Op): Promise<string> => {
    switch (op.kind) {
      case 'tx':
        return write(op.replica, op.writes);
      case 'sync': {
        if (op.concurrent) await Promise.all(op.replicas.map((r) => sync(r, op.twice)));
        else for (const r of op.replicas) await sync(r, op.twice);
        return '';
      }
      case 'write-during-sync': {
        const r = op.replica;
        let written: Promise<string> | undefined;
        network.onRequest(r, op.route, async () => {
          written = write(r, op.writes);
          await written;
        });
        await sync(r);
        if (network.takeHooks(r).length > 0) return `no ${op.route}; after the sync: ${await write(r, op.writes)}`;
        return `during the ${op.route}: ${await written!}`;
      }
      case 'offline':
      case 'online':
        network.setOnline(op.replica, op.kind === 'online');
        return '';
      case 'fault':
        network.arm(op.replica, op.fault);
        return '';
      case 'reopen': {
        const slot = slots[op.replica]!;
        await slot.replica.close();
        slot.replica = await open(op.replica, slot.idb, slot.name);
        return '';
      }
      case 'restart':
        await server.restart();
        return '';
      case 'backup':
        if (!(await server.backup())) return 'not on this backend';
        network.count('backup');
        return '';
      case 'restore':
        if (!(await server.restore())) return 'no backup to restore';
        network.count('restored');
        return '';
    }
  };

  try {
    for (let i = 0; i < N; i++) {
      const idb = new IDBFactory();
      slots.push({ idb, name: `fuzz-${i}`, replica: await open(i, idb, `fuzz-${i}`) });
    }
    for (const op of ops) {
      const outcome = await execute(op);
      report.ops++;
      trace.push(`${describeOp(op)}${outcome ? ` → ${outcome}` : ''}`);
    }

    await network.heal();
    let quiet = false;
    for (let pass = 0; pass < 8 && !quiet; pass++) {
      let moved = false;
      for (let r = 0; r < N; r++) moved = (await sync(r, false, false)) || moved;
      quiet = pass >= 1 && !moved;
    }
    if (!quiet) fail(['final-sync'], 'the replicas did not become quiescent after 8 fault-free sync passes');
    report.writes = writes.length;
    await judge(server, slots, network, writes, report, fail, { maxBodyBytes: config.maxBodyBytes });
    return report;
  } finally {
    for (const slot of slots) await slot.replica.close().catch(() => undefined);
    await server.close();
  }
}

/** The op with its replica indices taken modulo N (so that shrinking never makes an op invalid). */
function onReplicas(op: Op, n: number): Op {
  if (op.kind === 'sync') return { ...op, replicas: [...new Set(op.replicas.map((r) => r % n))] };
  if (!('replica' in op)) return op;
  return { ...op, replica: op.replica % n };
}
