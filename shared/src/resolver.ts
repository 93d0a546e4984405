import type { ConflictType } from './protocol/conflict-entry';
import type { RowValues } from './schema/row-values';
import type { ColumnType } from './schema/define-schema';

/** One side of a conflict. `values` is null when that side deleted the row. */
export interface ConflictVersion {
  values: RowValues | null;
  /** The replica that wrote this version (`server` for changes made at the server). */
  replicaId: string;
  /** 0–100; the server itself is 100. */
  priority: number;
}

/**
 * What a resolver is asked to decide. The engine has already established that a conflict
 * exists; the resolver only chooses the outcome.
 */
export interface ConflictInput {
  table: string;
  type: ConflictType;
  /** The conflicting columns. For a column resolver this is exactly one column. */
  columns: readonly string[];
  /** The uploading replica's values of the columns it changed, before its first unsent edit. */
  base: RowValues;
  /** The version stored at the server. */
  server: ConflictVersion;
  /** The uploaded version: the server row with the replica's changed columns laid over it. */
  client: ConflictVersion;
  /** The table's column types, so that a resolver can answer values that fit (average() rounds integers). */
  columnTypes: Readonly<Record<string, ColumnType>>;
}

/**
 * A resolver's decision. `server` keeps the stored version (`open: true` leaves the conflict
 * for a person to settle); `client` takes the uploaded one; `merge` supplies values for the
 * conflicting columns; `reject` refuses the change, which is logged with the reason.
 */
export type Resolution =
  | { kind: 'server'; open?: boolean; reason?: string }
  | { kind: 'client'; reason?: string }
  | { kind: 'merge'; values: RowValues; reason?: string }
  | { kind: 'reject'; reason: string };

/**
 * A conflict resolver. `resolve` must be synchronous, pure and deterministic: it runs inside
 * the store transaction, and every server must reach the same decision for the same input.
 */
export interface Resolver {
  readonly name: string;
  /**
   * The column a resolver reads to decide, whatever columns conflict (`laterWins('updatedAt')`).
   * The server refuses to start when a table the resolver is configured for lacks it.
   */
  readonly column?: string;
  /**
   * The column types the resolver works on: the type of `column` when it has one; otherwise the
   * type of the column it is configured for, checked only for per-column configuration. A
   * mismatch is a startup error naming the table, column and resolver.
   */
  readonly accepts?: readonly ColumnType[];
  resolve(input: ConflictInput): Resolution;
}
