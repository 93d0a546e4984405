import { ConcordError, rowguidProblem, valuesIssue, type TableDef } from '@concord/shared';

type Row = Record<string, unknown>;

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
