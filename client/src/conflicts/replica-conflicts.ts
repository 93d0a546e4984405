import type { Dexie } from 'dexie';
import { ConcordError, type ConflictEntry, type ConflictStatus, type RowValues } from '@concord/shared';
import type { Transport } from '../sync/transport';

export interface ConflictQuery {
  status?: ConflictStatus;
  /** `mine` (default): the conflicts this replica uploaded, won or lost; `all`: every replica's, for a reviewer. */
  scope?: 'mine' | 'all';
}

/**
 * The conflicts that concern this replica (it uploaded, won or lost), or with `scope: 'all'`
 * every replica's, fetched from the server and kept in `_conflicts` so they can be shown
 * offline too. Offline, the cached entries are answered.
 */
export async function fetchConflicts(
  db: Dexie,
  transport: Transport,
  replicaId: string | null,
  { status, scope = 'mine' }: ConflictQuery,
): Promise<ConflictEntry[]> {
  const cached = db.table<ConflictEntry, string>('_conflicts');
  const concerns = (entry: ConflictEntry) =>
    scope === 'all' || [entry.replicaId, entry.winner, entry.loser].includes(replicaId);
  const local = async () =>
    (await (status ? cached.where('status').equals(status) : cached.toCollection()).sortBy('id')).filter(concerns);
  if (!replicaId) return local();
  try {
    for (let after: string | undefined; ;) {
      const mine = scope === 'mine' ? { replicaId } : {};
      const { conflicts, more } = await transport.conflicts({ ...mine, status, after, limit: 500 });
      await cached.bulkPut(conflicts);
      if (!more || conflicts.length === 0) break;
      after = conflicts[conflicts.length - 1]!.id;
    }
  } catch (error) {
    const offline = error instanceof ConcordError && (error.details as { offline?: boolean } | undefined)?.offline;
    if (!offline) throw error;
  }
  return local();
}

/** A person's decision on a conflict: take the losing version, confirm the winner, or hand-edited values. */
export type ConflictChoice = 'loser' | 'winner' | RowValues;

/**
 * Settles or overrides a conflict at the server, which applies the chosen version as a new
 * change that replicates everywhere; the cached entry is updated at once.
 */
export async function settleConflict(
  db: Dexie,
  transport: Transport,
  id: string,
  choice: ConflictChoice,
  by?: string,
): Promise<ConflictEntry> {
  const decision = typeof choice === 'string' ? choice : { values: choice };
  const { conflict } = await transport.resolveConflict(id, by ? { choice: decision, by } : { choice: decision });
  await db.table<ConflictEntry, string>('_conflicts').put(conflict);
  return conflict;
}
