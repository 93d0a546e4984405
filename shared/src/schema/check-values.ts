import { ConcordError } from '../errors';
import type { TableDef } from './define-schema';
import { valuesIssue } from './values-issue';

/**
 * Throws a `ConcordError` for the first column of `values` that `table` cannot store
 * (`unknown_column` or `invalid_value`, with the column, and the expected type for
 * `invalid_value`, in its details). Every local write, uploaded value and hand-edited override
 * passes this one check. `where`, when given, starts the message; `skip` names a column not
 * checked (the key, for a whole row).
 */
export function checkValues(
  table: TableDef,
  values: Readonly<Record<string, unknown>> | undefined,
  where?: string,
  skip?: string,
): void {
  const issue = values && valuesIssue(table, values, skip);
  if (!issue) return;
  const { code, message, column, expected } = issue;
  throw new ConcordError(code, where === undefined ? message : `${where}: ${message}`, {
    column,
    ...(expected && { expected }),
  });
}
