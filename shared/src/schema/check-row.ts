import { PROTOCOL_LIMITS } from '../protocol/version';
import { describeValue, isStorableName, isWellFormed, toWellFormed, valueProblem } from './check-value';
import { columnTypeOf, type ColumnType, type TableDef } from './define-schema';

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

/** Why `rowguid` cannot name a row, or undefined: a non-empty, well-formed string of at most 128 characters. */
export function rowguidProblem(rowguid: unknown): string | undefined {
  if (typeof rowguid !== 'string' || rowguid.length === 0)
    return `a rowguid must be a non-empty string, got ${describeValue(rowguid)}`;
  if (rowguid.length > PROTOCOL_LIMITS.maxIdLength) {
    return `a rowguid is at most ${PROTOCOL_LIMITS.maxIdLength} characters, got ${rowguid.length}`;
  }
  if (!isWellFormed(rowguid)) return 'a rowguid must be well-formed UTF-16 (it has a lone surrogate)';
  if (rowguid.includes('\u0000')) return 'a rowguid must not hold U+0000';
  return undefined;
}

/** A name from a request, safe to print and to store: at most 128 characters, well-formed, no U+0000. */
export function describeName(name: string): string {
  const short = name.length > PROTOCOL_LIMITS.maxIdLength ? `${name.slice(0, PROTOCOL_LIMITS.maxIdLength)}…` : name;
  return isStorableName(short) ? short : toWellFormed(short).replaceAll('\u0000', '\uFFFD');
}
