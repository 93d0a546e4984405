import type { Resolver } from '@concord/shared';
import { mergeEachColumn } from './merge-each-column';

/**
 * Merges the *changes* to a number: `base + (server − base) + (client − base)`, so two replicas
 * that each sold from one stock level both count, and the shared base is counted once (SQL
 * Server's Additive resolver adds the two values, counting the base twice). A missing or null
 * base counts as 0: two inserts of one rowguid add up. A null side takes the other side's value.
 * Symmetric: the same two versions give the same sum whichever reaches the server first.
 */
export function additive(): Resolver {
  return mergeEachColumn({
    name: 'additive',
    accepts: ['number', 'integer'],
    expected: 'a number',
    is: (value): value is number => typeof value === 'number' && Number.isFinite(value),
    merge: ({ base, server, client }) => server + client - (base ?? 0),
  });
}
