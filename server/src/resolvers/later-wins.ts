import type { Resolver } from '@concord/shared';
import { compareColumn } from './compare-column';

/**
 * The version with the later value in `column` wins: a date or number column the application
 * sets on every write, such as `updatedAt`.
 * A null value loses and a deleted version counts as null. Equal values and two nulls fall to
 * priority (higher wins; equal keeps the server version). When the values differ, the same two
 * versions give the same winner whichever reaches the server first.
 */
export function laterWins(column: string): Resolver {
  return compareColumn({
    name: 'laterWins',
    column,
    accepts: ['date', 'number', 'integer'],
    wins: 'larger',
    label: 'later',
  });
}
