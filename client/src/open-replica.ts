import type { Dexie, DBCoreTransaction } from 'dexie';
import { v7 as uuidv7 } from 'uuid';
import { ConcordError, type ConflictEntry, type Schema } from '@concord/shared';
import { fetchConflicts, settleConflict, type ConflictChoice, type ConflictQuery } from './conflicts/replica-conflicts';
import { createStatus, type ReplicaStatus } from './status';
import { createReplicaDb } from './storage/replica-db';
import { replicaState } from './storage/replica-state';
import { createScheduler } from './sync/scheduler';
import type { SyncContext } from './sync/sync-context';
import { syncRound, type SyncReport } from './sync/sync-round';
import { createHttpTransport, type TransportOptions } from './sync/transport';
import { createTrackingMiddleware } from './tracking/tracking-middleware';

export interface ReplicaOptions extends TransportOptions {
  schema: Schema;
  /** The IndexedDB database name; tabs of one origin that use the same name share one replica. Default `concord`. */
  name?: string;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  /** Most changes in one upload; also the most changes one local generation holds. Default 1,000. */
  maxUploadChanges?: number;
  /**
   * Most changes asked for per download page; the server may send fewer (its own ceiling, 5,000
   * by default). Default 5,000: an initial sync takes few round trips and few transactions.
   */
  maxDownloadChanges?: number;
  /** Background sync: interval, debounce after local writes, first backoff and its ceiling (ms). */
  syncIntervalMs?: number;
  debounceMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where `online`/`offline` events come from; defaults to the global object when it has them. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  now?: () => Date;
  random?: () => number;
}

export interface Replica {
  /** The Dexie database. Writes to replicated tables are tracked and uploaded. */
  readonly db: Dexie;
  /** One sync round: upload, then download. Calls made during a round run one more round after it. */
  sync(): Promise<SyncReport>;
  start(): void;
  stop(): void;
  readonly status: ReplicaStatus;
  subscribe(listener: (status: ReplicaStatus) => void): () => void;
  conflicts(query?: ConflictQuery): Promise<ConflictEntry[]>;
  /**
   * Settles an open conflict or overrides a past decision: `'loser'`, `'winner'`, or hand-edited
   * values. The server applies it as a new change; this replica syncs at once to receive it.
   */
  resolveConflict(id: string, choice: ConflictChoice, options?: { by?: string }): Promise<ConflictEntry>;
  close(): Promise<void>;
}

/** Opens (or creates) the local replica and wires tracking, transport, sync and status together. */
export async function openReplica(options: ReplicaOptions): Promise<Replica> {
  const { schema } = options;
  const maxUploadChanges = options.maxUploadChanges ?? 1_000;
  const now = options.now ?? (() => new Date());
  const events = options.events ?? (typeof globalThis.addEventListener === 'function' ? globalThis : undefined);
  const syncTransactions = new WeakSet<DBCoreTransaction>();
  const status = createStatus({ state: 'idle', pending: 0, lastSyncAt: null, leader: true, error: null });
  const refreshPending = () =>
    db
      .table('_changes')
      .count()
      .then((pending) => status.update({ pending }))
      .catch(() => undefined);

  // Counting the outbox after every single write would double the cost of small transactions.
  let countQueued = false;
  const refreshPendingSoon = () => {
    if (countQueued) return;
    countQueued = true;
    setTimeout(() => {
      countQueued = false;
      void refreshPending();
    }, 20);
  };

  const db = createReplicaDb({
    schema,
    name: options.name ?? 'concord',
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
    middleware: createTrackingMiddleware({
      schema,
      isSyncTransaction: (trans) => syncTransactions.has(trans),
      newRowguid: () => uuidv7(),
      generationSize: maxUploadChanges,
      onCommit: () => {
        refreshPendingSoon();
        scheduler.nudge();
      },
    }),
  });
  await db.open();
  const state = replicaState(db);
  const tables = [...schema.tableNames, '_changes', '_state', '_conflicts'];
  const transport = createHttpTransport(options);
  const ctx: SyncContext = {
    schema,
    transport,
    state,
    maxUploadChanges,
    maxDownloadChanges: options.maxDownloadChanges ?? 5_000,
    syncTransaction: (work) =>
      db.transaction('rw', tables, (tx) => {
        syncTransactions.add(tx.idbtrans as unknown as DBCoreTransaction);
        return work(tx);
      }),
  };

  let running: Promise<SyncReport> | undefined;
  let queued: Promise<SyncReport> | undefined;
  const runRound = async (): Promise<SyncReport> => {
    status.update({ state: 'syncing' });
    try {
      const report = await syncRound(ctx, now);
      status.update({ state: 'idle', error: null, lastSyncAt: await state.get('lastSyncAt', null) });
      return report;
    } catch (error) {
      const concord = error instanceof ConcordError ? error : new ConcordError('internal', String(error));
      const offline = (concord.details as { offline?: boolean } | undefined)?.offline === true;
      status.update({ state: offline ? 'offline' : 'error', error: { code: concord.code, message: concord.message } });
      throw error;
    } finally {
      await refreshPending();
    }
  };
  const sync = (): Promise<SyncReport> => {
    if (!running) {
      running = runRound().finally(() => (running = undefined));
      return running;
    }
    queued ??= running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return sync();
      });
    return queued;
  };

  const scheduler = createScheduler({
    round: sync,
    debounceMs: options.debounceMs ?? 250,
    intervalMs: options.syncIntervalMs ?? 30_000,
    backoffMs: options.backoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
    random: options.random ?? Math.random,
    events,
  });
  const goOffline = () => status.update({ state: 'offline' });
  events?.addEventListener('offline', goOffline);
  status.update({ lastSyncAt: await state.get('lastSyncAt', null) });
  await refreshPending();

  return {
    db,
    sync,
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
    get status() {
      return status.get();
    },
    subscribe: status.subscribe,
    conflicts: async (query = {}) => fetchConflicts(db, transport, await state.get('replicaId', null), query),
    async resolveConflict(id, choice, { by } = {}) {
      const conflict = await settleConflict(db, transport, id, choice, by);
      await sync().catch(() => undefined); // the decided version also arrives with the next round
      return conflict;
    },
    async close() {
      scheduler.stop();
      events?.removeEventListener('offline', goOffline);
      await Promise.allSettled([running, queued]);
      db.close();
    },
  };
}
