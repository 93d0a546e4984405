import { currentName, tableOf, type Schema } from './define-schema';

/** The migrations that lead to `version`: a schema, or one step of its history. */
export type MigrationPath = Pick<Schema, 'version' | 'migrations'>;

/**
 * Values of `table` written under schema version `from` (column values, or anything else kept
 * per column), as `schema` (a newer version) names them: a renamed column takes its new name, a
 * removed one goes. Others are kept as they are, as own properties whatever their name (an
 * unknown `__proto__` stays a column, for the usual checks to refuse).
 */
export function valuesToCurrent<T>(
  schema: MigrationPath,
  table: string,
  values: Record<string, T>,
  from: number,
): Record<string, T> {
  if (from >= schema.version) return values;
  const mapped: Record<string, T> = {};
  for (const [column, value] of Object.entries(values)) {
    const name = currentName(schema.migrations, table, column, from);
    if (name !== undefined)
      Object.defineProperty(mapped, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return mapped;
}

/** Column names of `table` written under version `from`, as `schema` names them (removed ones left out). */
export function columnsToCurrent(
  schema: MigrationPath,
  table: string,
  columns: readonly string[],
  from: number,
): string[] {
  if (from >= schema.version) return [...columns];
  return columns.flatMap((column) => currentName(schema.migrations, table, column, from) ?? []);
}

/**
 * Current values of `table`, as an older version `older` of the schema has them: its columns
 * only, under the names it gave them; a column removed since is left out (so it reads as null).
 * Undefined for a table that version does not have.
 */
export function valuesForVersion<T>(
  schema: Schema,
  older: Schema,
  table: string,
  values: Record<string, T>,
): Record<string, T> | undefined {
  const def = tableOf(older, table);
  if (!def) return undefined;
  const mapped: Record<string, T> = {};
  for (const column of def.columnNames) {
    const name = currentName(schema.migrations, table, column, older.version);
    if (name !== undefined && Object.hasOwn(values, name)) mapped[column] = values[name]!;
  }
  return mapped;
}
