/** @module @concord/client — the browser replica: Dexie change tracking, the outbox and the sync round. */
export { openReplica } from './open-replica';
export type { Replica } from './replica';
export type { ReplicaOptions } from './replica-options';
export type { ReplicaStatus, SyncProgress, SyncState } from './status';
export type { SyncReport } from './sync/sync-round';
export type { OutboxEntry } from './storage/replica-db';
export type { ConflictChoice, ConflictQuery } from './conflicts/replica-conflicts';
export type { TransportOptions } from './sync/transport';
export type { TableValidation, ValidateOptions, ValidationReport } from './validation/validate-replica';
