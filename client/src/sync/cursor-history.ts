import type { Cursor } from '../storage/replica-state';

/** How many of the latest cursors are kept as they are. */
const RECENT = 8;

/**
 * The cursors a replica keeps to find, after a restore, the last commit its history shares with
 * the store: the latest few, and one for each power of two of older generations, so the history
 * stays short (about 50 cursors for any store) and a backup of any age is matched within a
 * factor of two of its generation.
 */
export function rememberCursor(history: readonly Cursor[], cursor: Cursor): Cursor[] {
  if (cursor.generation === 0) return [...history];
  const all = [...history.filter((kept) => kept.generation < cursor.generation), cursor];
  const recent = all.slice(-RECENT);
  const buckets = new Map<number, Cursor>();
  for (const kept of all.slice(0, -RECENT)) buckets.set(Math.floor(Math.log2(kept.generation)), kept);
  return [...buckets.values(), ...recent];
}
