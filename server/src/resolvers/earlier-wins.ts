import type { Resolver } from '@concord/shared';
import { compareColumn } from './compare-column';

/**
 * The version with the earlier value in `column` wins: a date or number column, such as the
 * time a booking was made.
 * A null value loses and a deleted version counts as null. Equal values and two nulls fall to
 * priority (higher wins; equal keeps the server version). When the values differ, the same two
 * versions give the same winner whichever reaches the server first.
 */
export function earlierWins(column: string): Resolver {
  return compareColumn({
    name: 'earlierWins',
    column,
    accepts: ['date', 'number', 'integer'],
    wins: 'smaller',
    label: 'earlier',
  });
}
