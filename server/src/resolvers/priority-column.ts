import type { Resolver } from '@concord/shared';
import { compareColumn } from './compare-column';

/**
 * The version with the larger number in `column` wins: a priority the application keeps per row.
 * A null value loses and a deleted version counts as null. Equal values and two nulls fall to
 * priority (higher wins; equal keeps the server version). When the values differ, the same two
 * versions give the same winner whichever reaches the server first.
 */
export function priorityColumn(column: string): Resolver {
  return compareColumn({
    name: 'priorityColumn',
    column,
    accepts: ['number', 'integer'],
    wins: 'larger',
    label: 'larger',
  });
}
