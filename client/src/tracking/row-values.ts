import { ConcordError, fitsColumn, type JsonValue, type RowValues, type TableDef } from '@concord/shared';

type Row = Record<string, unknown>;

/** Equal as replicated values: `undefined` and `null` are one, objects compare by their JSON. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (a == null && b == null)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

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
 * instead of blocking the outbox later: the key must be a string, every field a declared
 * column of the right type.
 */
export function checkRow(table: TableDef, row: Row): void {
  const key = row[table.key];
  if (typeof key !== 'string' || key.length === 0) {
    throw new ConcordError('invalid_value', `${table.name}.${table.key} must be a non-empty string rowguid`);
  }
  for (const [column, value] of Object.entries(row)) {
    if (column === table.key || value === undefined) continue;
    const type = table.columns[column];
    if (!type) throw new ConcordError('unknown_column', `${table.name} has no column "${column}"`, { column });
    if (!fitsColumn(type, value)) {
      throw new ConcordError('invalid_value', `${table.name}.${column} must be ${type}, got ${JSON.stringify(value)}`, {
        column,
        expected: type,
      });
    }
  }
}
