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

/** The name of the shared text (`Y.Text`) in a CRDT column's `Y.Doc`. */
export const CRDT_TEXT = 'text';

/**
 * Yjs updates by CRDT column, each base64 text. As with values, the parsed object is kept as it
 * came (its names are checked per change, as own properties).
 */
export const crdtUpdates = z.custom<Record<string, string>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((update) => typeof update === 'string'),
  { message: 'expected an object of base64 Yjs updates' },
);
