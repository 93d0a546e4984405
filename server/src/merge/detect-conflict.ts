import { sameValue, type ConflictType, type FromReplicaChange, type RowValues } from '@concord/shared';
import type { StoredRow } from '../storage/store';

/** A version of a row or of one column: when it was written, and by which replica. */
export interface WrittenVersion {
  generation: number;
  writer: string;
}

/** What the engine establishes about an upload before any resolver is asked. */
export interface ConflictDetection {
  /**
   * Whether the uploader had not seen `version` when it made the change, judged over `columns`.
   * A blind change has seen nothing.
   */
  foreign: (version: WrittenVersion, columns: readonly string[]) => boolean;
  /** A version the change is compared with is foreign: the row moved since the uploader saw it. */
  rowMoved: boolean;
  /** The kind of conflict this change makes, should it make one. */
  type: ConflictType;
}

/**
 * Finds whether an upload conflicts with the stored row. A replica never conflicts with itself:
 * only versions written after the change's base generation by *another* replica count, and the
 * uploader's own newer version where the change's base values show it was not seen. A delete or
 * a replace is compared over every column of the row; an upsert over the columns it changes.
 */
export function detectConflict(
  stored: StoredRow,
  change: FromReplicaChange,
  replicaId: string,
  changed: RowValues,
): ConflictDetection {
  const deletes = change.op === 'delete';
  const replaces = change.replace === true && !deletes;
  const newer = (version: { generation: number }) => version.generation > change.baseGeneration;
  // The uploader's own newer version is foreign too where the change's base values show it was
  // not seen: one written on its behalf by a merge or a resolution holds other replicas' values.
  // An insert (base 0) has seen no value; otherwise a column without a base value tells nothing.
  const unseen = (columns: readonly string[]) =>
    !stored.deleted &&
    columns.some((column) =>
      change.base && Object.hasOwn(change.base, column)
        ? !sameValue(stored.values[column], change.base[column])
        : change.baseGeneration === 0 && !sameValue(stored.values[column], null),
    );
  const foreign = (version: WrittenVersion, columns: readonly string[]) =>
    change.blind === true || (newer(version) && (version.writer !== replicaId || unseen(columns)));
  const compared =
    deletes || replaces
      ? [...new Set([...Object.keys(stored.values), ...Object.keys(change.base ?? {})])]
      : Object.keys(changed);
  const rowMoved =
    foreign(stored, compared) ||
    Object.entries(stored.columns ?? {}).some(([column, version]) =>
      foreign(version, compared.includes(column) ? [column] : []),
    );
  return { foreign, rowMoved, type: conflictType(stored, change) };
}

function conflictType(stored: StoredRow, change: FromReplicaChange): ConflictType {
  if (stored.deleted) return 'update-delete';
  if (change.op === 'delete') return 'delete-update';
  return change.baseGeneration === 0 ? 'insert-insert' : 'update-update';
}
