import type { Schema } from '@concord/shared';
import type { SyncProgress } from '../status';
import type { CrdtUpdate } from '../storage/crdt-fields';
import type { Tables } from '../storage/replica-db';
import type { ReplicaState } from '../storage/replica-state';
import type { Transport } from './transport';

/** What a sync round works with. */
export interface SyncContext {
  schema: Schema;
  transport: Transport;
  state: ReplicaState;
  maxUploadChanges: number;
  maxDownloadChanges: number;
  /**
   * Runs `work` in one read-write transaction over every table; its writes are not tracked.
   * Work must reach tables through `tx`: bound tables do not depend on Dexie's async zone.
   */
  syncTransaction<T>(work: (tx: Tables) => Promise<T>): Promise<T>;
  /** Told after every uploaded batch and every applied download page. */
  onProgress?(progress: SyncProgress): void;
  /** Told of the updates merged into CRDT fields, once their transaction committed (for open documents). */
  onCrdt?(updates: readonly CrdtUpdate[]): void;
}
