import { columnTypeOf, currentName, tableOf, type Schema } from '@concord/shared';

/** The schema versions a server serves: its own, and the older ones it still accepts. */
export interface SchemaVersions {
  current: Schema;
  /** The schema of `version` when this server serves it, else undefined. */
  at(version: number): Schema | undefined;
  /** Every version served, oldest first. */
  served: readonly number[];
}

/**
 * Checks that every older schema maps onto the current one through its migrations: each of its
 * tables is still there, and each of its columns is a column of the current schema with the same
 * type, under its own name or the one a migration renamed it to — or a migration removed it.
 * Throws at startup, naming what does not map.
 */
export function createSchemaVersions(schema: Schema, older: readonly Schema[] = []): SchemaVersions {
  const byVersion = new Map<number, Schema>([[schema.version, schema]]);
  for (const old of older) {
    const label = `olderSchemas: version ${old.version}`;
    if (old.version >= schema.version) throw new Error(`${label} is not older than the schema (${schema.version})`);
    if (byVersion.has(old.version)) throw new Error(`${label} is given twice`);
    for (const table of Object.values(old.tables)) {
      const now = tableOf(schema, table.name);
      if (!now) {
        throw new Error(
          `${label} has table "${table.name}", which version ${schema.version} lacks: removing or renaming a table is not supported`,
        );
      }
      const mapped = new Map<string, string>();
      for (const column of table.columnNames) {
        const name = currentName(schema.migrations, table.name, column, old.version);
        if (name === undefined) continue;
        if (mapped.has(name)) {
          throw new Error(
            `${label}: columns "${table.name}.${mapped.get(name)}" and "${table.name}.${column}" both become "${name}" in version ${schema.version}`,
          );
        }
        mapped.set(name, column);
        const type = columnTypeOf(now, name);
        if (type === undefined) {
          throw new Error(
            `${label}: column "${table.name}.${column}" is not in version ${schema.version}: declare in a migration that it was renamed or removed`,
          );
        }
        if (type !== table.columns[column]) {
          throw new Error(
            `${label}: column "${table.name}.${column}" is ${table.columns[column]} there and ${type} in version ${schema.version}: changing a column's type is not supported`,
          );
        }
      }
    }
    byVersion.set(old.version, old);
  }
  return {
    current: schema,
    at: (version) => byVersion.get(version),
    served: [...byVersion.keys()].sort((a, b) => a - b),
  };
}
