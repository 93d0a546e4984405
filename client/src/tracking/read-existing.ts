import type { DBCoreKeyRange, DBCoreRangeType, DBCoreTable, DBCoreTransaction } from 'dexie';

// DBCoreRangeType is an ambient const enum, which isolated modules cannot reference.
const RANGE = 2 as DBCoreRangeType;

/**
 * Whether `table` may hold any of `keys`, learnt from the primary keys between the smallest and
 * the largest of them: one request that reads at most one key, instead of one read per key.
 * New rows usually get fresh, increasing rowguids (UUIDv7), so a bulk insert asks once and reads
 * nothing. `prefix` scopes compound keys (`[table, rowguid]`).
 */
export async function mayHoldAny(
  table: DBCoreTable,
  trans: DBCoreTransaction,
  keys: readonly unknown[],
  prefix?: string,
): Promise<boolean> {
  if (keys.length < 2 || !keys.every((key): key is string => typeof key === 'string')) return true;
  let lower = keys[0] as string;
  let upper = lower;
  for (const key of keys as readonly string[]) {
    if (key < lower) lower = key;
    else if (key > upper) upper = key;
  }
  const range: DBCoreKeyRange =
    prefix === undefined
      ? { type: RANGE, lower, upper }
      : { type: RANGE, lower: [prefix, lower], upper: [prefix, upper] };
  const found = await table.query({ trans, values: false, limit: 1, query: { index: table.schema.primaryKey, range } });
  return found.result.length > 0;
}

/** The records of `keys` in `table`, in their order (undefined where none), read only where they may exist. */
export async function readExisting<T>(
  table: DBCoreTable,
  trans: DBCoreTransaction,
  keys: readonly unknown[],
  mayExist: boolean,
): Promise<(T | undefined)[]> {
  if (!mayExist) return keys.map(() => undefined);
  return (await table.getMany({ trans, keys: keys as unknown[] })) as (T | undefined)[];
}
