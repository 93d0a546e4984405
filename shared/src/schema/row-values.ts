import type { RowValues } from '../protocol/row-values';

/**
 * Equal as replicated values: `undefined` and `null` are one (a missing column holds null), and
 * objects compare by their JSON. Both sides decide "changed" and "identical" with this one rule.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (a == null && b == null)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The values of those `columns` that `values` has as its own; absent columns stay absent. */
export function pickColumns(values: RowValues, columns: readonly string[]): RowValues {
  const picked: RowValues = {};
  for (const column of columns) if (Object.hasOwn(values, column)) picked[column] = values[column]!;
  return picked;
}
