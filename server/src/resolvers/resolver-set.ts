import type { Resolver, Schema } from '@concord/shared';
import { priority } from './priority';

/** How resolvers are chosen: a default, then per table a row resolver and, for column-tracked tables, per column. */
export interface ResolverConfig {
  default?: Resolver;
  tables?: Record<string, { row?: Resolver; columns?: Record<string, Resolver> }>;
}

export interface ResolverSet {
  /** The resolver for whole-row conflicts of a table. */
  forRow(table: string): Resolver;
  /** The resolver for one column of a column-tracked table; falls back to the table's row resolver. */
  forColumn(table: string, column: string): Resolver;
}

/** Checks a resolver configuration against the schema; a mistake is a startup error, never a sync-time one. */
export function createResolverSet(schema: Schema, config: ResolverConfig = {}): ResolverSet {
  const fallback = config.default ?? priority();
  for (const [table, entry] of Object.entries(config.tables ?? {})) {
    const def = schema.tables[table];
    if (!def) throw new Error(`resolvers: unknown table "${table}"`);
    for (const column of Object.keys(entry.columns ?? {})) {
      if (!(column in def.columns)) throw new Error(`resolvers: unknown column "${table}.${column}"`);
      if (def.tracking !== 'column') {
        throw new Error(`resolvers: "${table}.${column}" has a column resolver but "${table}" uses row tracking`);
      }
    }
  }
  const forRow = (table: string) => config.tables?.[table]?.row ?? fallback;
  return {
    forRow,
    forColumn: (table, column) => config.tables?.[table]?.columns?.[column] ?? forRow(table),
  };
}
