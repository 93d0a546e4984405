import type { Resolver } from '@concord/shared';
import type { DeleteRule } from './deletes';

/** How one table's conflicts are decided. */
export interface TableResolverConfig {
  /** Whole-row conflicts, and every column without its own resolver. Default: the config's `default`. */
  row?: Resolver;
  /** Per-column resolvers; only for column-tracked tables. */
  columns?: Record<string, Resolver>;
  /**
   * Settles update–delete and delete–update conflicts instead of the row resolver: `win` — the
   * delete wins whichever side made it; `lose` — the update wins. Unset: the row resolver decides.
   */
  deletes?: DeleteRule;
}

/** How resolvers are chosen: a default (`priority()` unless given), then per table. */
export interface ResolverConfig {
  default?: Resolver;
  tables?: Record<string, TableResolverConfig>;
}
