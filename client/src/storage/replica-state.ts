import { DEFAULT_SERVER_LIMITS, type FromReplicaChangeInput, type ServerLimits } from '@concord/shared';
import type { OutboxEntry, Tables } from './replica-db';

/** A download cursor: the generation a replica stood on and the commit that holds it. */
export interface Cursor {
  generation: number;
  commit: string;
}

/** One push: outbox entries and their changes as sent. */
export interface Batch {
  entries: OutboxEntry[];
  changes: FromReplicaChangeInput[];
  /** The local generations the batch covers: from one past the last acknowledged one to its last entry's. */
  from: number;
  to: number;
}

/**
 * A recovery under way, kept in `_state` until it completes, so an interrupted one starts again.
 * `known`: a generation up to which the store's history is the one this replica had applied —
 * the last cursor the store recorded for it, raised to the newest of the replica's own old
 * cursors the store still has (0 when the replica registered anew). `lostWrites`: the store has
 * applied fewer of this replica's changes than it once acknowledged. `forgotten`: the store was
 * replaced (another epoch), so the two share no history at all. `realign`: the store lost
 * nothing, but the replica's partition changed: it downloads its new partition afresh, drops the
 * rows outside it, and compares no history. `tables`: a realignment of these tables only (a
 * repair after validation); the download cursor stays where it was, and the round's download
 * brings the other tables' changes from it.
 */
export interface RecoveryPlan {
  known: number;
  lostWrites: boolean;
  forgotten: boolean;
  realign?: boolean;
  tables?: string[];
}

/** Every `_state` key and the type of its value. */
export interface ReplicaStateValues {
  /** The server-assigned id; null until the replica registers (and again while it registers anew). */
  replicaId: string | null;
  /** The credential issued with `replicaId`. */
  secret: string | null;
  /** The server's limits as announced at registration. */
  serverLimits: ServerLimits;
  /** The server store this replica synced with. */
  epoch: string | null;
  priority: number;
  /** The newest local generation handed out. */
  localGeneration: number;
  /** sentGeneration: the highest local generation the server acknowledged. */
  sentGeneration: number;
  /** Whether the server ever acknowledged a change of this replica, under any of its identities. */
  acknowledgedEver: boolean;
  /** The download cursor and the commit it stands on. */
  receivedGeneration: number;
  receivedCommit: string;
  /** Older cursors, to find what a restored store shares with this replica (see `rememberCursor`). */
  cursors: readonly Cursor[];
  /** The last local generation of an upload in flight, and the batch itself, until its answer is applied. */
  inFlight: number | null;
  inFlightBatch: Batch | null;
  /** When the last round completed (ISO 8601). */
  lastSyncAt: string | null;
  /**
   * When the oldest local change still pending was written (ISO 8601): set by the write that
   * finds the outbox empty, cleared when an upload empties it. Null when nothing written here is pending.
   */
  pendingSince: string | null;
  recovery: RecoveryPlan | null;
  /** The schema version the database was last upgraded to; null for one made before it was kept. */
  schemaVersion: number | null;
}

export type StateKey = keyof ReplicaStateValues;

/** One `_state` record. */
export type StateRecord = { [K in StateKey]: { key: K; value: ReplicaStateValues[K] } }[StateKey];

/** The value of a key never written. */
const DEFAULTS: Readonly<ReplicaStateValues> = Object.freeze({
  replicaId: null,
  secret: null,
  serverLimits: DEFAULT_SERVER_LIMITS,
  epoch: null,
  priority: 0,
  localGeneration: 0,
  sentGeneration: 0,
  acknowledgedEver: false,
  receivedGeneration: 0,
  receivedCommit: '',
  cursors: Object.freeze([]),
  inFlight: null,
  inFlightBatch: null,
  lastSyncAt: null,
  pendingSince: null,
  recovery: null,
  schemaVersion: null,
});

/** The value of `key` among `_state` records read all at once, or its default. */
export function stateValue<K extends StateKey>(records: readonly StateRecord[], key: K): ReplicaStateValues[K] {
  const record = records.find((candidate) => candidate.key === key);
  return record === undefined ? DEFAULTS[key] : (record.value as ReplicaStateValues[K]);
}

/** Typed access to `_state`, in the given transaction (or the database's own). */
export function replicaState(db: Tables) {
  const table = db.table<StateRecord, StateKey>('_state');
  return {
    async get<K extends StateKey>(key: K): Promise<ReplicaStateValues[K]> {
      const record = await table.get(key);
      return record === undefined ? DEFAULTS[key] : (record.value as ReplicaStateValues[K]);
    },
    async set(values: Partial<ReplicaStateValues>): Promise<void> {
      const records = Object.entries(values).map(([key, value]) => ({ key, value }) as StateRecord);
      await table.bulkPut(records);
    },
  };
}

export type ReplicaState = ReturnType<typeof replicaState>;
