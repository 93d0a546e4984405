import { addHash, type TableChecksum } from '@concord/shared';
import { viewSees } from './view-sees';
import { rowKeyString, type ChecksumQuery, type RowKey } from './store';

/** A row as a checksum counts it. */
export interface HashedRow extends RowKey {
  deleted: boolean;
  partition?: string;
  hash: number;
}

/** Checksums being summed for a query's tables: each starts empty. */
export function tableChecksums({ tables, view, exclude = [] }: ChecksumQuery) {
  const sums = new Map<string, TableChecksum>(tables.map((table) => [table, { count: 0, checksum: 0 }]));
  // A row named twice (pending on the replica and changed since its download) is left out once.
  const unique = new Map(exclude.map((key) => [rowKeyString(key.table, key.rowguid), key]));
  /** Adds (`sign` 1) or takes away (-1) a row, if the query counts it. */
  const add = (row: HashedRow, sign: 1 | -1 = 1) => {
    const sum = sums.get(row.table);
    if (!sum || row.deleted || !viewSees(view, row.table, row.partition)) return;
    sum.count += sign;
    sum.checksum = addHash(sum.checksum, row.hash, sign);
  };
  return {
    sums,
    /** Whether the query leaves this row out. */
    excluded: (row: RowKey) => unique.has(rowKeyString(row.table, row.rowguid)),
    /** The rows the query leaves out, each once. */
    exclude: [...unique.values()],
    add,
  };
}
