import { columnTypeOf, tableOf, type Resolver, type Schema, type TableDef } from '@concord/shared';
import type { ResolverConfig } from './resolver-config';

const TABLE_OPTIONS = ['row', 'columns', 'deletes'];

/**
 * Checks a resolver configuration against the schema, so that a mistake is a startup error and
 * never a sync-time one: unknown tables, columns and options; per-column resolvers on row-tracked
 * tables; values that are not resolvers; and columns whose type a resolver cannot work on.
 * `Resolver.column` must exist in every table the resolver decides for (for the default: every
 * table without a row resolver of its own) and its type must be in `Resolver.accepts`; a
 * per-column resolver without `column` must accept the configured column's type. Each message
 * names the place in the configuration, the table, the column and the resolver.
 */
export function checkResolverConfig(schema: Schema, config: ResolverConfig): void {
  if (config.default !== undefined) {
    for (const table of Object.values(schema.tables)) {
      // The default decides only for tables without a row resolver of their own.
      if (config.tables?.[table.name]?.row === undefined) checkResolver('resolvers.default', config.default, table);
    }
  }
  for (const [name, entry] of Object.entries(config.tables ?? {})) {
    const where = `resolvers.tables.${name}`;
    const table = tableOf(schema, name);
    if (!table) throw new Error(`${where}: unknown table "${name}"`);
    for (const option of Object.keys(entry)) {
      if (TABLE_OPTIONS.includes(option)) continue;
      const hint = option === 'direction' ? " (a table's direction is declared in the schema)" : '';
      throw new Error(`${where}: unknown option "${option}"; use ${TABLE_OPTIONS.join(', ')}${hint}`);
    }
    if (entry.deletes !== undefined && entry.deletes !== 'win' && entry.deletes !== 'lose') {
      throw new Error(`${where}.deletes must be 'win' or 'lose', got ${JSON.stringify(entry.deletes)}`);
    }
    if (entry.row !== undefined) checkResolver(`${where}.row`, entry.row, table);
    for (const [column, resolver] of Object.entries(entry.columns ?? {})) {
      const at = `${where}.columns.${column}`;
      if (columnTypeOf(table, column) === undefined) throw new Error(`${at}: unknown column "${name}.${column}"`);
      if (table.crdt.includes(column)) {
        throw new Error(`${at}: "${name}.${column}" is a crdt column: its edits are merged, never resolved`);
      }
      if (table.tracking !== 'column') {
        throw new Error(`${at}: "${name}" uses row tracking; per-column resolvers need tracking: 'column'`);
      }
      checkResolver(at, resolver, table, column);
    }
  }
}

function checkResolver(where: string, resolver: Resolver, table: TableDef, configured?: string): void {
  const shaped = resolver as Partial<Resolver> | null;
  if (typeof shaped?.name !== 'string' || shaped.name === '' || typeof shaped.resolve !== 'function') {
    throw new Error(`${where}: not a resolver; a resolver is { name, resolve(input) }`);
  }
  const { name, column, accepts } = resolver;
  if (column !== undefined && columnTypeOf(table, column) === undefined) {
    throw new Error(`${where}: ${name} reads column "${column}", which table "${table.name}" does not have`);
  }
  const read = column ?? configured;
  const type = read === undefined ? undefined : columnTypeOf(table, read);
  if (type === undefined || accepts === undefined || accepts.includes(type)) return;
  throw new Error(
    `${where}: ${name} needs a column of type ${accepts.join(' or ')}, but "${table.name}.${read}" is ${type}`,
  );
}
