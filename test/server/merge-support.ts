import type { FromReplicaChange } from '@concord/shared';
import type { StoredRow } from '@concord/server';
import { mergeChange } from '../../server/src/merge/merge-change';
import type { MergeOutcome } from '../../server/src/merge/merge-outcome';
import { createResolverSet, type ResolverConfig } from '../../server/src/resolvers/resolver-set';
import { testSchema } from '../support/test-server';

/** Replicas of equal priority, and one above them. */
export const A = { id: 'replica-a', priority: 0 };
export const B = { id: 'replica-b', priority: 0 };
export const HIGH = { id: 'replica-high', priority: 75 };

/** Merges one change into the stored row, as the engine does for each change of a push. */
export function merge(
  stored: StoredRow | undefined,
  change: FromReplicaChange,
  replica = A,
  config?: ResolverConfig,
): MergeOutcome {
  const table = testSchema.tables[change.table]!;
  return mergeChange({ table, resolvers: createResolverSet(testSchema, config), replica }, stored, change);
}

/** A stored row of the row-tracked `notes` table. */
export function note(
  values: Record<string, unknown>,
  opts: { gen: number; writer: string; priority?: number; deleted?: boolean },
): StoredRow {
  return {
    table: 'notes',
    rowguid: 'r1',
    values: values as StoredRow['values'],
    deleted: opts.deleted ?? false,
    generation: opts.gen,
    writer: opts.writer,
    priority: opts.priority ?? 0,
  };
}

/** A stored row of the column-tracked `stock` table, each column with its own version. */
export function stockRow(
  values: Record<string, unknown>,
  columns: Record<string, { gen: number; writer: string; priority?: number }>,
): StoredRow {
  const gens = Object.values(columns).map((c) => c.gen);
  const newest = Object.values(columns).reduce((a, b) => (b.gen > a.gen ? b : a));
  return {
    table: 'stock',
    rowguid: 'r1',
    values: values as StoredRow['values'],
    deleted: false,
    generation: Math.max(...gens),
    writer: newest.writer,
    priority: 0,
    columns: Object.fromEntries(
      Object.entries(columns).map(([name, c]) => [
        name,
        { generation: c.gen, writer: c.writer, priority: c.priority ?? 0 },
      ]),
    ),
  };
}
