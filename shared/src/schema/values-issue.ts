import { columnTypeOf, type ColumnType, type TableDef } from './define-schema';
import { describeName } from './describe-name';
import { valueProblem } from './value-problem';

/** Why some values cannot be stored: the first offending column, and an error code and message for it. */
export interface ValueIssue {
  code: 'unknown_column' | 'invalid_value';
  column: string;
  message: string;
  /** The column's type, for `invalid_value`. */
  expected?: ColumnType;
}

/**
 * The first column of `values` that `table` cannot store, or undefined when all fit. The one
 * check both sides run: the replica refuses a local write with it, the server refuses an uploaded
 * change with it, so nothing the replica keeps is refused later. `undefined` values are absent
 * columns and are skipped, as is the column named `skip` (the key, for a whole row).
 */
export function valuesIssue(
  table: TableDef,
  values: Readonly<Record<string, unknown>>,
  skip?: string,
): ValueIssue | undefined {
  for (const column of Object.keys(values)) {
    const value = values[column];
    if (column === skip || value === undefined) continue;
    const type = columnTypeOf(table, column);
    if (type === undefined) {
      return { code: 'unknown_column', column, message: `unknown column "${table.name}.${describeName(column)}"` };
    }
    const problem = valueProblem(type, value);
    if (problem !== undefined) {
      return {
        code: 'invalid_value',
        column,
        expected: type,
        message: `${table.name}.${column} must be ${type}: ${problem}`,
      };
    }
  }
  return undefined;
}
