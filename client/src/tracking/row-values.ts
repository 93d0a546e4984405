import {
  ConcordError,
  rowguidProblem,
  sameValue,
  valuesIssue,
  type JsonValue,
  type RowValues,
  type TableDef,
} from '@concord/shared';

type Row = Record<string, unknown>;

/** The values of `columns` in `row`, with missing values as `null`. */
export function pickValues(row: Row | undefined, columns: readonly string[]): RowValues {
  const picked: RowValues = {};
  for (const column of columns) picked[column] = (row?.[column] ?? null) as JsonValue;
  return picked;
}

/** The columns `row` sets (to anything but `undefined`). */
export function presentColumns(table: TableDef, row: Row): string[] {
  return table.columnNames.filter((column) => row[column] !== undefined);
}

/** The columns whose values differ between two versions of a row. */
export function changedColumns(table: TableDef, before: Row, after: Row): string[] {
  return table.columnNames.filter((column) => !sameValue(before[column], after[column]));
}

/**
 * Refuses a row the server would refuse, at write time, so that a bad write fails in the app
 * instead of being rejected at sync: the key must be a valid rowguid, every field a declared
 * column holding exact JSON of its type. The same check the server runs (`valuesIssue`).
 */
export function checkRow(table: TableDef, row: Row): void {
  const problem = rowguidProblem(row[table.key]);
  if (problem !== undefined) throw new ConcordError('invalid_value', `${table.name}.${table.key}: ${problem}`);
  const issue = valuesIssue(table, row, table.key);
  if (issue) {
    const { code, message, column, expected } = issue;
    throw new ConcordError(code, message, expected ? { column, expected } : { column });
  }
}
