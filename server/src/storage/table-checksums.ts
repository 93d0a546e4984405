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
  const excluded = new Set(exclude.map(({ table, rowguid }) => rowKeyString(table, rowguid)));
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
    excluded: (row: RowKey) => excluded.has(rowKeyString(row.table, row.rowguid)),
    add,
  };
}
