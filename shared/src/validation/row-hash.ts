import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { JsonValue, RowValues } from '../schema/row-values';

/**
 * Row hashes and checksums are numbers below 2^52: a checksum is the sum of its rows' hashes
 * modulo 2^52, so it does not depend on the order rows are read in, and a store computes it in SQL
 * from a hash kept with every row (`checksumSql` splits each hash in two halves of 26 bits, whose
 * sums fit a 64-bit integer for any table).
 */
export const CHECKSUM_MODULUS = 2 ** 52;
export const CHECKSUM_HALF = 2 ** 26;

/** JSON with object keys sorted, at every depth: one text for equal values. */
function canonical(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`).join(',')}}`;
}

/**
 * The hash of one row: its rowguid and its non-null values, by column name. A null column and a
 * missing one hash alike, so adding a nullable column to the schema changes no row's hash.
 */
export function rowHash(rowguid: string, values: RowValues): number {
  const present: RowValues = {};
  for (const [column, value] of Object.entries(values))
    if (value !== null && value !== undefined) present[column] = value;
  const digest = sha256(utf8ToBytes(canonical([rowguid, present])));
  const high = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  const low = (digest[4]! << 12) | (digest[5]! << 4) | (digest[6]! >> 4);
  return high * 2 ** 20 + low;
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
