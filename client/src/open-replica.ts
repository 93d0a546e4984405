import { v7 as uuidv7 } from 'uuid';
import { fetchConflicts, settleConflict } from './conflicts/replica-conflicts';
import type { Replica } from './replica';
import type { ReplicaOptions } from './replica-options';
import { createStatus } from './status';
import { createStatusCounts } from './status-counts';
import { createReplicaDb } from './storage/create-replica-db';
import { replicaState } from './storage/replica-state';
import { requestPersistence } from './storage/request-persistence';
import { createSyncTransactions } from './storage/sync-transactions';
import { createBackgroundSync } from './sync/background-sync';
import { createRoundRunner } from './sync/round-runner';
import { createHttpTransport } from './sync/transport';
import { coordinateTabs } from './tabs/coordinate-tabs';
import { createTrackingMiddleware } from './tracking/tracking-middleware';
import { validateReplica } from './validation/validate-replica';
import { createCrdtDocs } from './crdt/crdt-docs';

/** Opens (or creates) the local replica and wires tracking, transport, sync, tabs and status together. */
export async function openReplica(options: ReplicaOptions): Promise<Replica> {
  const { schema } = options;
  const name = options.name ?? 'concord';
  const maxUploadChanges = options.maxUploadChanges ?? 1_000;
  const report = options.log ?? ((error: unknown) => console.error('concord: unexpected error', error));
  const log = (error: unknown) => {
    try {
      report(error);
    } catch {
      // A failing log must not fail the work whose error it was given.
    }
  };
  const browser = globalThis as { navigator?: Partial<Navigator>; BroadcastChannel?: typeof BroadcastChannel };
  const status = createStatus();
  const syncTransactions = createSyncTransactions(schema);

  const db = createReplicaDb({
    schema,
    name,
    indexedDB: options.indexedDB,
    IDBKeyRange: options.IDBKeyRange,
    middleware: createTrackingMiddleware({
      schema,
      isSyncTransaction: syncTransactions.isSyncTransaction,
      newRowguid: () => uuidv7(),
      generationSize: maxUploadChanges,
      onCommit: () => {
        counts.recountSoon();
        tabs.wrote();
      },
    }),
  });
  await db.open();
  const state = replicaState(db);
  const counts = createStatusCounts({ db, state, status, log });
  const transport = createHttpTransport(options);
  const docs = createCrdtDocs({
    schema,
    run: (work) => syncTransactions.run(db, work),
    written: (edit) => {
      counts.recountSoon();
      tabs.wrote();
      tabs.crdt([edit]);
    },
    log,
  });
  /** Brings this replica's conflict entries in, so every tab can show them; offline it keeps the cached ones. */
  const refreshConflicts = async () => {
    await fetchConflicts(db, transport, await state.get('replicaId'), {}).catch(log);
    await counts.recount().catch(log);
  };

  const rounds = createRoundRunner({
    ctx: {
      schema,
      transport,
      state,
      maxUploadChanges,
      maxDownloadChanges: options.maxDownloadChanges ?? 5_000,
      syncTransaction: (work) => syncTransactions.run(db, work),
      onProgress: (progress) => status.update({ progress }),
      onCrdt: (updates) => {
        docs.remote(updates);
        tabs.crdt([...updates]);
      },
    },
    state,
    status,
    now: options.now ?? (() => new Date()),
    after: async (report) => {
      // A round that met conflicts brings their log entries in.
      if (report && report.conflicts + report.rejected > 0) await refreshConflicts();
      else await counts.recount().catch(log);
    },
  });
  const background = createBackgroundSync({
    round: () => rounds.sync(),
    transport,
    realtime: options.realtime ?? true,
    staleMs: options.realtimeStaleMs ?? 45_000,
    debounceMs: options.debounceMs ?? 250,
    intervalMs: options.syncIntervalMs ?? 30_000,
    backoffMs: options.backoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
    random: options.random ?? Math.random,
    receivedGeneration: () => state.get('receivedGeneration'),
    events: options.events ?? (typeof globalThis.addEventListener === 'function' ? globalThis : undefined),
    onOffline: () => status.update({ state: 'offline' }),
    onConflicts: () => void refreshConflicts(),
    log,
  });
  const tabs = coordinateTabs({
    name,
    locks: options.locks === null ? undefined : (options.locks ?? browser.navigator?.locks),
    openChannel:
      options.openChannel === null
        ? undefined
        : (options.openChannel ?? (browser.BroadcastChannel && ((n) => new browser.BroadcastChannel!(n)))),
    status,
    localSync: rounds.sync,
    background,
    refresh: () => void counts.recount().catch(log),
    newId: () => uuidv7(),
    requestTimeoutMs: 60_000,
    crdt: (updates) => docs.remote(updates),
  });

  status.update({ lastSyncAt: await state.get('lastSyncAt') });
  await counts.recount();
  if (options.persist ?? true) {
    void requestPersistence(browser.navigator?.storage)
      .then((persisted) => persisted !== undefined && status.update({ persisted }))
      .catch(log);
  }

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
      const conflicts = await fetchConflicts(db, transport, await state.get('replicaId'), query);
      await counts.recount();
      return conflicts;
    },
    async resolveConflict(id, choice, { by } = {}) {
      const conflict = await settleConflict(db, transport, id, choice, by);
      await tabs.sync().catch(log); // the decided version also arrives with the next round
      return conflict;
    },
    crdt: (table, rowguid, column) => docs.doc(table, rowguid, column),
    validate: (validateOptions) => validateReplica({ db, schema, transport, sync: () => tabs.sync() }, validateOptions),
    async close() {
      // The lock passes on only after this tab's last round ends: never two syncing tabs.
      tabs.stop();
      background.close();
      await docs.flushed();
      await rounds.idle();
      tabs.close();
      docs.close();
      await counts.close();
      db.close();
    },
  };
}
