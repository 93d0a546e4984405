import { type ConflictInput, type JsonValue, type Resolution, type Resolver } from '@concord/shared';
import type { ResolverConfig } from '@concord/server';
import { testSchema } from '../support/test-server';
import type { ResolverName } from './ops';

/** The fuzz schema is the suites' test schema: one row-tracked and one column-tracked table. */
export const fuzzSchema = testSchema;

/** The uploaded version always wins, deletes included ("subscriber always wins"). */
const clientWins: Resolver = { name: 'fuzz-client-wins', resolve: () => ({ kind: 'client' }) };

const larger = (server: JsonValue | undefined, client: JsonValue | undefined): JsonValue => {
  if (typeof server === 'number' && typeof client === 'number') return Math.max(server, client);
  return client ?? server ?? null;
};

/**
 * Row conflicts: numbers merge by their maximum, other columns take the uploaded value. A delete
 * of a row someone else changed is refused (logged as rejected); an update of a deleted row brings it back.
 */
const maxMergeRow: Resolver = {
  name: 'fuzz-max-merge',
  resolve: ({ server, client, columns }: ConflictInput): Resolution => {
    if (client.values === null) return { kind: 'reject', reason: 'fuzz-max-merge refuses to delete a changed row' };
    if (server.values === null) return { kind: 'client' };
    const values = Object.fromEntries(columns.map((c) => [c, larger(server.values![c], client.values![c])]));
    return { kind: 'merge', values };
  },
};

/** One column: the larger number wins, as a merge (a null loses). */
const maxColumn: Resolver = {
  name: 'fuzz-max-column',
  resolve: ({ server, client, columns }: ConflictInput): Resolution => {
    const column = columns[0]!;
    return { kind: 'merge', values: { [column]: larger(server.values?.[column], client.values?.[column]) } };
  },
};

/** The resolver configurations the fuzz runs under (custom `{ name, resolve }` objects only). */
export function resolverConfig(name: ResolverName): ResolverConfig | undefined {
  switch (name) {
    case 'priority':
      return undefined;
    case 'client-wins':
      return { default: clientWins };
    case 'max-merge':
      return { default: maxMergeRow, tables: { stock: { columns: { qty: maxColumn, price: maxColumn } } } };
  }
}

/** Replica priorities by registration order, for ranked runs. */
export const RANKS = [20, 80, 50, 0, 100, 35];
