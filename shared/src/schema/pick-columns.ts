import type { RowValues } from './row-values';

/** The values of those `columns` that `values` has as its own; absent columns stay absent. */
export function pickColumns(values: RowValues, columns: readonly string[]): RowValues {
  const picked: RowValues = {};
  for (const column of columns) if (Object.hasOwn(values, column)) picked[column] = values[column]!;
  return picked;
}
