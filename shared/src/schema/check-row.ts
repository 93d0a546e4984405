import { ConcordError } from '../errors';
import { checkValues } from './check-values';
import type { TableDef } from './define-schema';
import { rowguidProblem } from './rowguid-problem';

/**
 * Refuses a whole row the server would refuse: its key must be a valid rowguid
 * (`invalid_value`), and every other field a declared column holding exact JSON of its type
 * (see `checkValues`). A replica runs it on every local write, so nothing it keeps is refused
 * at sync.
 */
export function checkRow(table: TableDef, row: Readonly<Record<string, unknown>>): void {
  const problem = rowguidProblem(row[table.key]);
  if (problem !== undefined) throw new ConcordError('invalid_value', `${table.name}.${table.key}: ${problem}`);
  checkValues(table, row, undefined, table.key);
}
