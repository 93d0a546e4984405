import type { ConflictType, RowValues, TableDef } from '@concord/shared';
import type { ResolverSet } from '../resolvers/resolver-set';
import type { CrdtFieldState } from '../storage/store';

/** What merging one change decides: the types every step of the merge shares. */
export interface MergeReplica {
  id: string;
  priority: number;
}

export interface MergeContext {
  table: TableDef;
  resolvers: ResolverSet;
  replica: MergeReplica;
}

/** A row to write; its generation is assigned when the batch commits. */
export interface RowWrite {
  values: RowValues;
  deleted: boolean;
  priority: number;
  /** Columns this write set, with the priority each now carries (column tracking keeps them). */
  touched: Map<string, number>;
  /** The row's CRDT columns after this write merged edits into some (their new updates not yet at a generation). */
  crdt?: Record<string, CrdtFieldState>;
}

/** A conflict as decided by the engine; id, generation and time are added at commit. */
export interface ConflictDraft {
  columns: string[];
  type: ConflictType;
  resolver: string;
  status: 'resolved' | 'open';
  winner: string | null;
  loser: string | null;
  winningValues: RowValues | null;
  losingValues: RowValues | null;
  reason: string;
}

export interface MergeOutcome {
  outcome: 'applied' | 'merged' | 'conflict' | 'rejected';
  /** Absent when the stored row stands as it is. */
  write?: RowWrite;
  conflicts: ConflictDraft[];
  reason?: string;
}
