import type { Resolver } from '@concord/shared';
import { mergeEachColumn } from './merge-each-column';

/**
 * The mean of the server's and the uploaded value. A side that still holds the base value did
 * not change the column, so the other side's value is taken rather than halved. Integer columns
 * are rounded (`Math.round`) so the result fits. A null side takes the other side's value.
 * Symmetric: the same two versions give the same value whichever reaches the server first.
 */
export function average(): Resolver {
  return mergeEachColumn({
    name: 'average',
    accepts: ['number', 'integer'],
    expected: 'a number',
    is: (value): value is number => typeof value === 'number' && Number.isFinite(value),
    merge: ({ type, base, server, client }) => {
      if (base !== null && server === base) return client;
      if (base !== null && client === base) return server;
      const mean = (server + client) / 2;
      return type === 'integer' ? Math.round(mean) : mean;
    },
  });
}
