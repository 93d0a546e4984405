import { rowKeyString, type ChangePage, type ChangeQuery, type Removal, type StoredRow } from './store';

/** The reads a store answers to build a change page; all of one page must see one snapshot. */
export interface PageReads {
  /**
   * Generation and stored size (bytes of its JSON data) of up to `count` entries in
   * `(after, upTo]`, in order: rows, and with a view the moves that cross it.
   */
  sizes(after: number, count: number, upTo?: number): Promise<{ generation: number; bytes: number }[]>;
  /** The last generation of the commit that holds `generation`. */
  commitEnd(generation: number): Promise<number | undefined>;
  /**
   * The rows with a generation in `(after, upTo]`, in order; with a view, then the rows that
   * moved into it in that range (as they stand) and removals for those that moved out and stay out.
   */
  entries(after: number, upTo: number): Promise<{ rows: StoredRow[]; removals: Removal[] }>;
  /** The store's newest generation. */
  generation(): Promise<number>;
  /** The highest generation up to which tombstones were purged. */
  purged(): Promise<number>;
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

/** What a move counts for in a page's size: about as much as a small row. */
export const MOVE_BYTES = 64;

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
  if (last === undefined) return finalPage(reads, after, { rows: [], removals: [] });
  let upTo = (await reads.commitEnd(last)) ?? last;
  if (upTo > last && Number.isFinite(maxBytes)) {
    const rest = await reads.sizes(last, ALL, upTo);
    const whole = bytes + rest.reduce((sum, row) => sum + row.bytes, 0);
    if (whole > WHOLE_TRANSACTION_FACTOR * maxBytes) upTo = last;
  }
  const entries = await reads.entries(after, upTo);
  if ((await reads.sizes(upTo, 1)).length === 0) return finalPage(reads, after, entries);
  const commit = (await reads.commitAt(upTo)) ?? '';
  return { ...distinct(entries), cursor: upTo, commit, more: true, purged: await reads.purged() };
}

/** A row that changed and also moved into view in one page is sent once. */
function distinct({ rows, removals }: Entries): Entries {
  const seen = new Set<string>();
  const once = rows.filter((row) => {
    const key = rowKeyString(row.table, row.rowguid);
    return !seen.has(key) && Boolean(seen.add(key));
  });
  return { rows: once, removals };
}

type Entries = Awaited<ReturnType<PageReads['entries']>>;

/** The last page: its cursor covers everything committed, left-out rows included. */
async function finalPage(reads: PageReads, after: number, entries: Entries): Promise<ChangePage> {
  const cursor = Math.max(after, await reads.generation());
  return {
    ...distinct(entries),
    cursor,
    commit: cursor === 0 ? '' : ((await reads.commitAt(cursor)) ?? ''),
    purged: await reads.purged(),
    more: false,
  };
}
