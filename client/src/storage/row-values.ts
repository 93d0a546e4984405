import { sameValue, type JsonValue, type RowValues, type TableDef } from '@concord/shared';

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
