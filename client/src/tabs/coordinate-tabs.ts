import { ConcordError, isErrorCode } from '@concord/shared';
import type { createStatus } from '../status';
import type { SyncReport } from '../sync/sync-round';
import { createLeadership, type Locks } from './leadership';
import { createTabChannel, type Channel, type FieldUpdate, type TabMessage } from './tab-channel';

/** What only the leader runs: background sync and the realtime stream. */
export interface Background {
  start(): void;
  stop(): void;
  /** A local write happened (here or in another tab). */
  nudge(): void;
}

export interface TabsOptions {
  /** The database name: the Web Lock and the channel are named after it. */
  name: string;
  locks: Locks | undefined;
  openChannel: ((name: string) => Channel) | undefined;
  status: ReturnType<typeof createStatus>;
  /** One round in this tab. */
  localSync: () => Promise<SyncReport>;
  background: Background;
  /** The outbox or conflicts may have changed in another tab: recount them. */
  refresh: () => void;
  newId: () => string;
  /** How long a follower waits for the leader to answer a sync request. */
  requestTimeoutMs: number;
  /** Another tab merged updates into CRDT fields: the documents open here take them. */
  crdt: (updates: readonly FieldUpdate[]) => void;
}

/**
 * All tabs of an origin share one replica database; exactly one of them syncs. The leader (the
 * holder of the Web Lock) runs background sync and realtime, and answers the other tabs over a
 * BroadcastChannel: it sends its status on every change, syncs soon after another tab writes,
 * and runs a round when a tab calls `sync()`. Followers see data through Dexie's cross-tab
 * live queries and the status the leader sends. When the leader goes, the next tab leads.
 */
export function coordinateTabs(options: TabsOptions) {
  const { status, background } = options;
  let wanted = false;
  let leader = false;
  const asked = new Map<string, { resolve: (report: SyncReport) => void; reject: (error: unknown) => void }>();

  const shareStatus = () => {
    const { state, lastSyncAt, error, openConflicts, progress } = status.get();
    channel.post({ type: 'status', status: { state, lastSyncAt, error, openConflicts, progress } });
  };
  const answer = (id: string) =>
    options.localSync().then(
      (report) => channel.post({ type: 'synced', id, report }),
      (error: unknown) => channel.post({ type: 'synced', id, error: describe(error) }),
    );

  const onMessage = (message: TabMessage) => {
    // Every tab, leading or not, keeps its open documents live.
    if (message.type === 'crdt') return options.crdt(message.updates);
    if (leader) {
      if (message.type === 'hello') shareStatus();
      else if (message.type === 'wrote') background.nudge();
      else if (message.type === 'sync') void answer(message.id);
      return;
    }
    if (message.type === 'status') {
      status.update(message.status);
      options.refresh();
    } else if (message.type === 'leader') {
      // A new tab leads: requests the previous leader never answered go to it.
      for (const id of asked.keys()) channel.post({ type: 'sync', id });
    } else if (message.type === 'synced') {
      const waiting = asked.get(message.id);
      asked.delete(message.id);
      if (!waiting) return;
      if (message.report) waiting.resolve(message.report);
      else {
        const code = isErrorCode(message.error?.code) ? message.error.code : 'internal';
        waiting.reject(new ConcordError(code, message.error?.message ?? 'the sync failed'));
      }
    }
  };
  const channel = createTabChannel(options.openChannel, `concord:${options.name}`, onMessage);
  const unsubscribe = status.subscribe(() => {
    if (leader) shareStatus();
  });
  const leadership = createLeadership(options.locks, `concord:${options.name}`, (isLeader) => {
    leader = isLeader;
    status.update({ leader: isLeader });
    if (!isLeader) return background.stop();
    // A round the previous leader was running ended with it.
    if (status.get().state === 'syncing') status.update({ state: 'idle', progress: null });
    if (wanted) background.start();
    channel.post({ type: 'leader' });
    shareStatus();
    // Requests this tab sent to the previous leader are answered here now.
    for (const [, waiting] of asked) options.localSync().then(waiting.resolve, waiting.reject);
    asked.clear();
  });
  if (!leader) channel.post({ type: 'hello' });

  return {
    sync(): Promise<SyncReport> {
      if (leader) return options.localSync();
      const id = options.newId();
      return new Promise<SyncReport>((resolve, reject) => {
        const timer = setTimeout(() => {
          if (!asked.delete(id)) return;
          reject(new ConcordError('unavailable', 'the tab that syncs did not answer', { offline: true }));
        }, options.requestTimeoutMs);
        const settle =
          <T>(done: (value: T) => void) =>
          (value: T) => {
            clearTimeout(timer);
            done(value);
          };
        asked.set(id, { resolve: settle(resolve), reject: settle(reject) });
        channel.post({ type: 'sync', id });
      });
    },
    /** Updates merged into CRDT fields in this tab: the other tabs' open documents take them. */
    crdt(updates: FieldUpdate[]) {
      channel.post({ type: 'crdt', updates });
    },
    /** A write committed in this tab. */
    wrote() {
      if (leader) background.nudge();
      else channel.post({ type: 'wrote' });
    },
    start() {
      wanted = true;
      if (leader) background.start();
    },
    stop() {
      wanted = false;
      background.stop();
    },
    close() {
      unsubscribe();
      leadership.release();
      channel.close();
      for (const [, waiting] of asked) waiting.reject(new ConcordError('unavailable', 'the replica was closed'));
      asked.clear();
    },
  };
}

function describe(error: unknown): { code: string; message: string } {
  return error instanceof ConcordError
    ? { code: error.code, message: error.message }
    : { code: 'internal', message: String(error) };
}
