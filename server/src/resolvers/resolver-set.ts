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
  const deleteRules = new Map<string, Resolver>();
  for (const [table, entry] of Object.entries(config.tables ?? {})) {
    if (entry.deletes) deleteRules.set(table, deletes(entry.deletes));
  }
  const forRow = (table: string) => config.tables?.[table]?.row ?? fallback;
  return {
    forRow,
    forColumn: (table, column) => config.tables?.[table]?.columns?.[column] ?? forRow(table),
    forDeleteConflict: (table) => deleteRules.get(table) ?? forRow(table),
  };
}
