export type SyncState = 'idle' | 'syncing' | 'offline' | 'error';

/** What a replica shows about its sync. */
export interface ReplicaStatus {
  state: SyncState;
  /** Local changes not yet acknowledged by the server. */
  pending: number;
  /**
   * When the oldest of them was written (ISO 8601), or null: warn before the browser may evict
   * the database or the server's retention runs out. Changes a recovery queues again keep no time.
   */
  pendingSince: string | null;
  /** When the last round completed (ISO 8601), or null. */
  lastSyncAt: string | null;
  /** The server-assigned id of this replica; null until it first registers. */
  replicaId: string | null;
  /** Whether this tab is the one that syncs (the holder of the replica's Web Lock). */
  leader: boolean;
  /** Open conflicts that concern this replica, as of the last sync or `conflicts()` call. */
  openConflicts: number;
  /**
   * Whether the browser granted persistent storage (`navigator.storage.persist()`): without it
   * the browser may evict the database, unsynced changes included. Null where unknown.
   */
  persisted: boolean | null;
  /** How far the running round has come (for a progress bar during long syncs); null between rounds. */
  progress: SyncProgress | null;
  /**
   * The last time a round reinitialized the replica (downloaded everything afresh), and why: an
   * error code such as `expired_replica` (not seen within the server's retention period),
   * `partition_changed`, or one of a restored store. Null until one does, in this session.
   */
  reinitialized: { reason: string; at: string } | null;
  /**
   * The last failure, cleared by the next successful round, with the server's details when it
   * gave any: for `schema_mismatch`, `details.update` says which side must be updated (`'replica'`:
   * show "update required").
   */
  error: { code: string; message: string; details?: unknown } | null;
}

/**
 * How far a round has come. Upload: changes sent of those pending when it started. Download:
 * rows applied, of an estimate that the server's newest generation bounds (exact at the end).
 */
export interface SyncProgress {
  phase: 'upload' | 'download';
  done: number;
  total: number;
}

/** A replica's status before it has done anything: idle, nothing known yet. */
const INITIAL: ReplicaStatus = {
  state: 'idle',
  replicaId: null,
  pending: 0,
  pendingSince: null,
  lastSyncAt: null,
  leader: false,
  openConflicts: 0,
  persisted: null,
  progress: null,
  reinitialized: null,
  error: null,
};

/** A tiny observable value: listeners hear every change, never a stale one. */
export function createStatus(initial: ReplicaStatus = INITIAL) {
  let current = initial;
  const listeners = new Set<(status: ReplicaStatus) => void>();
  return {
    get: () => current,
    update(patch: Partial<ReplicaStatus>) {
      const next = { ...current, ...patch };
      if ((Object.keys(patch) as (keyof ReplicaStatus)[]).every((key) => Object.is(current[key], next[key]))) return;
      current = next;
      for (const listener of listeners) listener(current);
    },
    subscribe(listener: (status: ReplicaStatus) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
