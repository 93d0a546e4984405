import { sameValue, type RowValues } from '@concord/shared';

/**
 * What an upload changes in the live row: the sent values that differ from it, by `sameValue`.
 * A replace also changes the columns it leaves out (they go from the old row's values to none).
 * With no live row (none stored, or a tombstone) every sent value is a change.
 */
export function changedValues(sent: RowValues, live: RowValues | undefined, replaces: boolean): RowValues {
  if (!live) return sent;
  const compared = replaces ? { ...nulls(live), ...sent } : sent;
  const differ: RowValues = {};
  for (const column of Object.keys(compared)) {
    if (!sameValue(compared[column], live[column])) differ[column] = compared[column]!;
  }
  return differ;
}

/** Every column of `row`, set to null. */
function nulls(row: RowValues): RowValues {
  const none: RowValues = {};
  for (const column of Object.keys(row)) none[column] = null;
  return none;
}
