import {
  tableOf,
  valuesForVersion,
  valuesToCurrent,
  type FromReplicaChange,
  type RowValues,
  type Schema,
} from '@concord/shared';

/**
 * The changes of a replica at an older schema version, renamed in place to the current
 * version's columns (a removed column's value goes). A change to a table that version does not
 * have is left as it is, for the usual checks to refuse. Returns the indexes of the changes that
 * lost a value: the server does not keep all they sent.
 */
export function changesToCurrent(schema: Schema, older: Schema, changes: FromReplicaChange[]): Set<number> {
  const trimmed = new Set<number>();
  changes.forEach((change, i) => {
    if (!tableOf(older, change.table)) return;
    if (change.values) {
      const values = valuesToCurrent(schema, change.table, change.values, older.version);
      if (Object.keys(values).length < Object.keys(change.values).length) trimmed.add(i);
      change.values = values;
    }
    if (change.base) change.base = valuesToCurrent(schema, change.table, change.base, older.version);
  });
  return trimmed;
}

/**
 * Rows going down to a replica at an older schema version: only tables it has, with the
 * columns it knows under the names it gave them. Rows keep their other fields.
 */
export function rowsForVersion<T extends { table: string; values?: RowValues | null }>(
  schema: Schema,
  older: Schema,
  rows: readonly T[],
): T[] {
  return rows.flatMap((row) => {
    if (!tableOf(older, row.table)) return [];
    if (!row.values) return [row];
    return [{ ...row, values: valuesForVersion(schema, older, row.table, row.values)! }];
  });
}
