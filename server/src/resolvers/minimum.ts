import type { Resolver } from '@concord/shared';
import { compareColumn } from './compare-column';

/**
 * The version with the smaller value in `column` (a number or date column) wins.
 * A null value loses and a deleted version counts as null. Equal values and two nulls fall to
 * priority (higher wins; equal keeps the server version). When the values differ, the same two
 * versions give the same winner whichever reaches the server first.
 */
export function minimum(column: string): Resolver {
  return compareColumn({
    name: 'minimum',
    column,
    accepts: ['number', 'integer', 'date'],
    wins: 'smaller',
    label: 'smaller',
  });
}
