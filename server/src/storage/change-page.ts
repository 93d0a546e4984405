import type { ChangePage, ChangeQuery, StoredRow } from './store';

/** The reads a store answers to build a change page; all of one page must see one snapshot. */
export interface PageReads {
  /** Generation and stored size (bytes of its JSON data) of up to `count` rows after `after`, in order. */
  sizes(after: number, count: number): Promise<{ generation: number; bytes: number }[]>;
  /** The last generation of the commit that holds `generation`. */
  commitEnd(generation: number): Promise<number | undefined>;
  /** The rows with a generation in `(after, upTo]`, in order. */
  rows(after: number, upTo: number): Promise<StoredRow[]>;
  /** Whether any row is left after `generation`. */
  anyAfter(generation: number): Promise<boolean>;
  /** The store's newest generation. */
  generation(): Promise<number>;
  commitAt(generation: number): Promise<string | undefined>;
}

/**
 * One page of changes, the rows filtered as `query` says (the reads apply the filters). Rows
 * are added until `limit` rows or `maxBytes` of data (at least one row), then up to the end of
 * the transaction the last one belongs to, so a transaction is never split between pages. Sizes
 * are read before the data, so a page of large rows never loads more than it sends.
 */
export async function readChangePage(reads: PageReads, query: ChangeQuery): Promise<ChangePage> {
  const { after, limit, maxBytes = Number.POSITIVE_INFINITY } = query;
  const sizes = await reads.sizes(after, limit);
  let taken = 0;
  for (let bytes = 0; taken < sizes.length;) {
    bytes += sizes[taken]!.bytes;
    taken++;
    if (taken >= limit || bytes >= maxBytes) break;
  }
  const last = sizes[taken - 1]?.generation;
  if (last === undefined) return finalPage(reads, after, []);
  const upTo = (await reads.commitEnd(last)) ?? last;
  const rows = await reads.rows(after, upTo);
  if (!(await reads.anyAfter(upTo))) return finalPage(reads, after, rows);
  return { rows, cursor: upTo, commit: (await reads.commitAt(upTo)) ?? '', more: true };
}

/** The last page: its cursor covers everything committed, left-out rows included. */
async function finalPage(reads: PageReads, after: number, rows: StoredRow[]): Promise<ChangePage> {
  const cursor = Math.max(after, await reads.generation());
  return { rows, cursor, commit: cursor === 0 ? '' : ((await reads.commitAt(cursor)) ?? ''), more: false };
}
