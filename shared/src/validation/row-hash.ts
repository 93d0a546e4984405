import { createXXHash64 } from 'hash-wasm';
import type { JsonValue, RowValues } from '../schema/row-values';

/**
 * Row hashes and checksums are numbers below 2^52: a checksum is the sum of its rows' hashes
 * modulo 2^52, so it does not depend on the order rows are read in, and a store computes it in SQL
 * from a hash kept with every row (split in two halves of 26 bits, whose sums fit a 64-bit
 * integer for any table).
 */
export const CHECKSUM_MODULUS = 2 ** 52;
export const CHECKSUM_HALF = 2 ** 26;

/**
 * The hash of one row: its rowguid and its non-null values, by column name. A null column and a
 * missing one hash alike, so adding a nullable column to the schema changes no row's hash.
 */
export type RowHash = (rowguid: string, values: RowValues) => number;

/** A copy of a JSON value whose objects list their keys sorted, at every depth: one text for equal values. */
function sorted(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sorted);
  const copy: Record<string, JsonValue> = {};
  for (const key of Object.keys(value).sort()) copy[key] = sorted(value[key]!);
  return copy;
}

let made: Promise<RowHash> | undefined;

/**
 * The row hash: the first 52 bits of the XXH64 of `[rowguid, values]` as JSON, with null values
 * left out and object keys sorted. Made once per process (it compiles a small WebAssembly module).
 */
export function rowHasher(): Promise<RowHash> {
  made ??= createXXHash64().then((hasher) => (rowguid, values) => {
    const present: Record<string, JsonValue> = {};
    for (const column of Object.keys(values).sort()) {
      const value = values[column];
      if (value !== null && value !== undefined) present[column] = sorted(value);
    }
    hasher.init();
    hasher.update(JSON.stringify([rowguid, present]));
    const digest = hasher.digest('binary');
    const high = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
    return high * 2 ** 20 + ((digest[4]! << 12) | (digest[5]! << 4) | (digest[6]! >> 4));
  });
  return made;
}

/** `checksum` with `hash` added (`sign` 1) or taken away (`sign` -1), modulo 2^52. */
export function addHash(checksum: number, hash: number, sign: 1 | -1 = 1): number {
  return (((checksum + sign * hash) % CHECKSUM_MODULUS) + CHECKSUM_MODULUS) % CHECKSUM_MODULUS;
}

/** The count and checksum of some rows of one table. */
export interface TableChecksum {
  count: number;
  checksum: number;
}
