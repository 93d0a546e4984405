import type { Dexie, DBCoreTransaction } from 'dexie';
import { v7 as uuidv7 } from 'uuid';
import type { ConflictEntry, Schema } from '@concord/shared';
import { fetchConflicts, settleConflict, type ConflictChoice, type ConflictQuery } from './conflicts/replica-conflicts';
import { createStatus, type ReplicaStatus } from './status';
import { createReplicaDb } from './storage/replica-db';
import { replicaState } from './storage/replica-state';
import { createRealtime } from './sync/realtime';
import { createRoundRunner } from './sync/round-runner';
import { createScheduler } from './sync/scheduler';
import type { SyncContext } from './sync/sync-context';
import type { SyncReport } from './sync/sync-round';
import { createHttpTransport, type TransportOptions } from './sync/transport';
import { coordinateTabs } from './tabs/coordinate-tabs';
import type { Locks } from './tabs/leadership';
import type { Channel } from './tabs/tab-channel';
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
   * by default). Default 5,000: an initial sync takes few round trips and few transactions. The
   * first page of a round asks for at most 1,000, so the first rows are queryable early.
   */
  maxDownloadChanges?: number;
  /** Background sync: interval, debounce after local writes, first backoff and its ceiling (ms). */
  syncIntervalMs?: number;
  debounceMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where `online`/`offline` events come from; defaults to the global object when it has them. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Web Locks for choosing the tab that syncs; default `navigator.locks`. `null`: this instance always syncs. */
  locks?: Locks | null;
  /** Opens the channel between tabs; default `new BroadcastChannel(name)`. `null`: no other tabs. */
  openChannel?: ((name: string) => Channel) | null;
  /** Listen to the server's event stream and sync on its pokes while started. Default true. */
  realtime?: boolean;
  /** An event stream silent this long (no event, not even a ping) is opened again. Default 45 s. */
  realtimeStaleMs?: number;
  /** Ask the browser for persistent storage (`navigator.storage.persist()`). Default true. */
  persist?: boolean;
  now?: () => Date;
  random?: () => number;
}

export interface Replica {
  /** The Dexie database. Writes to replicated tables are tracked and uploaded. */
  readonly db: Dexie;
  /**
   * One sync round: upload, then download. Calls made during a round run one more round after
   * it. In a tab that does not lead, the leading tab runs the round.
   */
  sync(): Promise<SyncReport>;
  /** Background sync (in the leading tab): after writes, on pokes, on `online`, on an interval. */
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

/** Opens (or creates) the local replica and wires tracking, transport, sync, tabs and status together. */
export async function openReplica(options: ReplicaOptions): Promise<Replica> {
  const { schema } = options;
  const name = options.name ?? 'concord';
  const maxUploadChanges = options.maxUploadChanges ?? 1_000;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const backoffMs = options.backoffMs ?? 1_000;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const events = options.events ?? (typeof globalThis.addEventListener === 'function' ? globalThis : undefined);
  const browser = globalThis as { navigator?: Partial<Navigator>; BroadcastChannel?: typeof BroadcastChannel };
  const syncTransactions = new WeakSet<DBCoreTransaction>();
  const status = createStatus();

  const db = createReplicaDb({
    schema,
    name,
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
    middleware: createTrackingMiddleware({
      schema,
      isSyncTransaction: (trans) => syncTransactions.has(trans),
      newRowguid: () => uuidv7(),
      generationSize: maxUploadChanges,
      onCommit: () => {
        refreshSoon();
        tabs.wrote();
      },
    }),
  });
  await db.open();
  const state = replicaState(db);
  const tables = [...schema.tableNames, '_changes', '_state', '_conflicts', '_deleted'];
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
    onProgress: (progress) => status.update({ progress }),
  };
  const replicaId = () => state.get('replicaId');

  /** Recounts the outbox and the open conflicts this replica knows of. */
  const refresh = async () => {
    const id = await replicaId();
    const open = await db.table<ConflictEntry, string>('_conflicts').where('status').equals('open').toArray();
    const mine = open.filter((entry) => [entry.replicaId, entry.winner, entry.loser].includes(id));
    status.update({ replicaId: id, pending: await db.table('_changes').count(), openConflicts: mine.length });
  };
  // Counting after every single write would double the cost of small transactions.
  let refreshQueued = false;
  const refreshSoon = () => {
    if (refreshQueued) return;
    refreshQueued = true;
    setTimeout(() => {
      refreshQueued = false;
      void refresh().catch(() => undefined);
    }, 20);
  };

  /** Brings this replica's conflict entries in, so every tab can show them; offline it keeps the cached ones. */
  const refreshConflicts = async () => {
    await fetchConflicts(db, transport, await replicaId(), {}).catch(() => undefined);
    await refresh().catch(() => undefined);
  };

  const rounds = createRoundRunner({
    ctx,
    state,
    status,
    now,
    after: async (report) => {
      // A round that met conflicts brings their log entries in.
      if (report && report.conflicts + report.rejected > 0) await refreshConflicts();
      else await refresh().catch(() => undefined);
    },
  });
  const scheduler = createScheduler({
    round: () => rounds.sync(),
    debounceMs: options.debounceMs ?? 250,
    intervalMs: options.syncIntervalMs ?? 30_000,
    backoffMs,
    maxBackoffMs,
    random,
    events,
  });
  const realtime = createRealtime({
    transport,
    staleMs: options.realtimeStaleMs ?? 45_000,
    backoffMs,
    maxBackoffMs,
    random,
    onPoke: (generation, conflicts) => {
      // A conflict entry may be added or settled without a row changing (manual() keeps the server's version).
      if (conflicts) void refreshConflicts();
      void state
        .get('receivedGeneration')
        .then((received) => {
          if (generation > received) scheduler.syncNow();
        })
        .catch(() => undefined); // the database closed meanwhile
    },
  });
  const useRealtime = options.realtime ?? true;
  const tabs = coordinateTabs({
    name,
    locks: options.locks === null ? undefined : (options.locks ?? browser.navigator?.locks),
    openChannel:
      options.openChannel === null
        ? undefined
        : (options.openChannel ?? (browser.BroadcastChannel && ((n) => new browser.BroadcastChannel!(n)))),
    status,
    localSync: rounds.sync,
    background: {
      start() {
        scheduler.start();
        if (useRealtime) realtime.start();
      },
      stop() {
        scheduler.stop();
        realtime.stop();
      },
      nudge: () => scheduler.nudge(),
    },
    refresh: () => void refresh().catch(() => undefined),
    newId: () => uuidv7(),
    requestTimeoutMs: 60_000,
  });

  const goOffline = () => status.update({ state: 'offline' });
  const goOnline = () => realtime.retry();
  events?.addEventListener('offline', goOffline);
  events?.addEventListener('online', goOnline);
  status.update({ lastSyncAt: await state.get('lastSyncAt') });
  await refresh();
  if (options.persist ?? true) void requestPersistence(browser.navigator?.storage, status);

  return {
    db,
    sync: () => tabs.sync(),
    start: () => tabs.start(),
    stop: () => tabs.stop(),
    get status() {
      return status.get();
    },
    subscribe: status.subscribe,
    async conflicts(query = {}) {
      const conflicts = await fetchConflicts(db, transport, await replicaId(), query);
      await refresh();
      return conflicts;
    },
    async resolveConflict(id, choice, { by } = {}) {
      const conflict = await settleConflict(db, transport, id, choice, by);
      await tabs.sync().catch(() => undefined); // the decided version also arrives with the next round
      return conflict;
    },
    async close() {
      // The lock passes on only after this tab's last round ends: never two syncing tabs.
      tabs.stop();
      events?.removeEventListener('offline', goOffline);
      events?.removeEventListener('online', goOnline);
      await rounds.idle();
      tabs.close();
      db.close();
    },
  };
}

/** Asks once for persistent storage and shows the answer in the status; never fails the replica. */
async function requestPersistence(
  storage: Partial<StorageManager> | undefined,
  status: ReturnType<typeof createStatus>,
): Promise<void> {
  try {
    const persisted = (await storage?.persisted?.()) || (await storage?.persist?.());
    if (persisted !== undefined) status.update({ persisted });
  } catch {
    // Storage APIs can throw in private modes; persistence stays unknown.
  }
}
