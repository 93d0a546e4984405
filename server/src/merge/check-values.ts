import { ConcordError, fitsColumn, type RowValues, type TableDef } from '@concord/shared';

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
  for (const [column, value] of Object.entries(values ?? {})) {
    const type = table.columns[column];
    if (!type) {
      throw new ConcordError('unknown_column', `${where}: unknown column "${table.name}.${column}"`, {
        ...details,
        column,
      });
    }
    if (!fitsColumn(type, value)) {
      throw new ConcordError(
        'invalid_value',
        `${where}: ${table.name}.${column} must be ${type}, got ${JSON.stringify(value)}`,
        { ...details, column, expected: type },
      );
    }
  }
}
