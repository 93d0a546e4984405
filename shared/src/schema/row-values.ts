import { z } from 'zod';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A row's app data: column name → JSON value. Never contains sync metadata. */
export type RowValues = Record<string, JsonValue>;

/**
 * Bodies arrive as parsed JSON, so any plain object holds JSON values; each value is then
 * checked against its column's type at the server edge. This keeps validation O(columns).
 */
export const rowValues = z.custom<RowValues>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'expected an object of column values' },
);
