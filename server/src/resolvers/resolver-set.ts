import type { Resolver, Schema } from '@concord/shared';
import { checkResolverConfig } from './check-resolver-config';
import { deletes } from './deletes';
import { priority } from './priority';
import type { ResolverConfig } from './resolver-config';

export type { ResolverConfig, TableResolverConfig } from './resolver-config';

export interface ResolverSet {
  /** The resolver for whole-row conflicts of a table. */
  forRow(table: string): Resolver;
  /** The resolver for one column of a column-tracked table; falls back to the table's row resolver. */
  forColumn(table: string, column: string): Resolver;
  /** The resolver for a conflict between an update and a delete: the table's `deletes` rule, else its row resolver. */
  forDeleteConflict(table: string): Resolver;
}

/** Checks a resolver configuration against the schema; a mistake is a startup error, never a sync-time one. */
export function createResolverSet(schema: Schema, config: ResolverConfig = {}): ResolverSet {
  checkResolverConfig(schema, config);
  const fallback = config.default ?? priority();
  // Maps, built from the checked configuration: a table or column name is never looked up on a prototype.
  const rows = new Map<string, Resolver>();
  const columns = new Map<string, Resolver>();
  const deleteRules = new Map<string, Resolver>();
  for (const [table, entry] of Object.entries(config.tables ?? {})) {
    if (entry.row) rows.set(table, entry.row);
    for (const [column, resolver] of Object.entries(entry.columns ?? {})) columns.set(`${table}.${column}`, resolver);
    if (entry.deletes) deleteRules.set(table, deletes(entry.deletes));
  }
  const forRow = (table: string) => rows.get(table) ?? fallback;
  return {
    forRow,
    forColumn: (table, column) => columns.get(`${table}.${column}`) ?? forRow(table),
    forDeleteConflict: (table) => deleteRules.get(table) ?? forRow(table),
  };
}
