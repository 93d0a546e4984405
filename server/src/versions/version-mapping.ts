import { changeProblem, type ChangeProblem } from '../merge/change-problem';
import type { VersionedChanges } from '../merge/apply-push';
import {
  tableOf,
  valuesForVersion,
  valuesToCurrent,
  type FromReplicaChange,
  type RowValues,
  type Schema,
} from '@concord/shared';

/**
 * The changes of a replica at an older schema version, checked against that version (its tables,
 * its columns, its types: a refused change is reported in the names the replica knows, and never
 * reaches a table or column it does not have), then renamed in place to the current version's
 * columns (a removed column's value goes).
 */
export function changesToCurrent(schema: Schema, older: Schema, changes: FromReplicaChange[]): VersionedChanges {
  const problems = new Map<FromReplicaChange, ChangeProblem | undefined>();
  const trimmed = new Set<number>();
  changes.forEach((change, i) => {
    const problem = changeProblem(older, change);
    problems.set(change, problem);
    if (problem) return;
    if (change.values) {
      const values = valuesToCurrent(schema, change.table, change.values, older.version);
      if (Object.keys(values).length < Object.keys(change.values).length) trimmed.add(i);
      change.values = values;
    }
    if (change.base) change.base = valuesToCurrent(schema, change.table, change.base, older.version);
    if (change.crdt) change.crdt = valuesToCurrent(schema, change.table, change.crdt, older.version);
  });
  return { problems, trimmed };
}

/**
 * Rows going down to a replica at an older schema version: only tables it has, with the
 * columns it knows (values and CRDT states) under the names it gave them. Rows keep their other fields.
 */
export function rowsForVersion<
  T extends { table: string; values?: RowValues | null; crdt?: Record<string, string> | undefined },
>(schema: Schema, older: Schema, rows: readonly T[]): T[] {
  return rows.flatMap((row) => {
    if (!tableOf(older, row.table)) return [];
    const mapped = { ...row };
    if (row.values) mapped.values = valuesForVersion(schema, older, row.table, row.values)!;
    if (row.crdt) mapped.crdt = valuesForVersion(schema, older, row.table, row.crdt)!;
    return [mapped];
  });
}
