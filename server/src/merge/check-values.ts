import { ConcordError, valuesIssue, type RowValues, type TableDef } from '@concord/shared';

/**
 * Checks column values against a table's schema, as every upload and every hand-edited override
 * must pass: an unknown column is `unknown_column`, a value its column cannot hold is
 * `invalid_value`. `where` starts the message; `details` (e.g. the change's index) is kept in
 * the error's details.
 */
export function checkValues(
  table: TableDef,
  values: RowValues | undefined,
  where: string,
  details: Record<string, unknown> = {},
): void {
  const issue = values && valuesIssue(table, values);
  if (!issue) return;
  const { code, message, column, expected } = issue;
  throw new ConcordError(code, `${where}: ${message}`, { ...details, column, ...(expected && { expected }) });
}
