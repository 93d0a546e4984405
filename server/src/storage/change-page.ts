import type { ChangePage, ChangeQuery, StoredRow } from './store';

/** The reads a store answers to build a change page; all of one page must see one snapshot. */
export interface PageReads {
  /** Generation and stored size (bytes of its JSON data) of up to `count` rows in `(after, upTo]`, in order. */
  sizes(after: number, count: number, upTo?: number): Promise<{ generation: number; bytes: number }[]>;
  /** The last generation of the commit that holds `generation`. */
  commitEnd(generation: number): Promise<number | undefined>;
  /** The rows with a generation in `(after, upTo]`, in order. */
  rows(after: number, upTo: number): Promise<StoredRow[]>;
  /** Whether any row is left after `generation`. */
  anyAfter(generation: number): Promise<boolean>;
  /** The store's newest generation. */
  generation(): Promise<number>;
  /** The id of the commit that holds `generation`. */
  commitAt(generation: number): Promise<string | undefined>;
}

/**
 * How far past `maxBytes` a page may grow to end with its transaction. A transaction larger
 * than that (one small push can touch thousands of large stored rows) is split between pages:
 * memory stays bounded, and the rest follows in the next page.
 */
const WHOLE_TRANSACTION_FACTOR = 4;

const ALL = Number.MAX_SAFE_INTEGER;

/**
 * One page of changes, the rows filtered as `query` says (the reads apply the filters). Rows
 * are added until `limit` rows or `maxBytes` of data (at least one row), then up to the end of
 * the transaction the last one belongs to, so a transaction is not split between pages — unless
 * it would make the page larger than `WHOLE_TRANSACTION_FACTOR × maxBytes`. Sizes are read
 * before the data, so a page of large rows never loads more than it sends.
 */
export async function readChangePage(reads: PageReads, query: ChangeQuery): Promise<ChangePage> {
  const { after, limit, maxBytes = Number.POSITIVE_INFINITY } = query;
  const sizes = await reads.sizes(after, limit);
  let taken = 0;
  let bytes = 0;
  while (taken < sizes.length) {
    bytes += sizes[taken]!.bytes;
    taken++;
    if (taken >= limit || bytes >= maxBytes) break;
  }
  const last = sizes[taken - 1]?.generation;
  if (last === undefined) return finalPage(reads, after, []);
  let upTo = (await reads.commitEnd(last)) ?? last;
  if (upTo > last && Number.isFinite(maxBytes)) {
    const rest = await reads.sizes(last, ALL, upTo);
    const whole = bytes + rest.reduce((sum, row) => sum + row.bytes, 0);
    if (whole > WHOLE_TRANSACTION_FACTOR * maxBytes) upTo = last;
  }
  const rows = await reads.rows(after, upTo);
  if (!(await reads.anyAfter(upTo))) return finalPage(reads, after, rows);
  return { rows, cursor: upTo, commit: (await reads.commitAt(upTo)) ?? '', more: true };
}
/** The last page: its cursor covers everything committed, left-out rows included. */
async function finalPage(reads: PageReads, after: number, rows: StoredRow[]): Promise<ChangePage> {
  const cursor = Math.max(after, await reads.generation());
  return { rows, cursor, commit: cursor === 0 ? '' : ((await reads.commitAt(cursor)) ?? ''), more: false };
}
