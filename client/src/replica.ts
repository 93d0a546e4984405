import type { Dexie } from 'dexie';
import type * as Y from 'yjs';
import type { ConflictEntry } from '@concord/shared';
import type { ConflictChoice, ConflictQuery } from './conflicts/replica-conflicts';
import type { ReplicaStatus } from './status';
import type { SyncReport } from './sync/sync-round';
import type { ValidateOptions, ValidationReport } from './validation/validate-replica';

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
  /**
   * Compares, per table, the row count and checksum of this replica's rows with the server's rows
   * for its partition (after a sync round; pending changes left out of both sides). With
   * `repair`, tables that differ are downloaded afresh, pending changes kept, and compared again.
   */
  validate(options?: ValidateOptions): Promise<ValidationReport>;
  /**
   * The live Yjs document of a CRDT column of a row (the row must exist): bind an editor to its
   * `getText('text')`. Local edits are persisted with an outbox entry and uploaded; what the server
   * sends is applied to it at once. One document per field, however often it is asked for.
   */
  crdt(table: string, rowguid: string, column: string): Promise<Y.Doc>;
  close(): Promise<void>;
}
