import type { ConflictEntry } from '@concord/shared';
import type { Tables } from '../storage/replica-db';

/** The open conflicts in `_conflicts` that concern `replicaId`: it uploaded, won or lost them. */
export async function countOpenConflicts(db: Tables, replicaId: string | null): Promise<number> {
  const open = await db.table<ConflictEntry, string>('_conflicts').where('status').equals('open').toArray();
  return open.filter((entry) => [entry.replicaId, entry.winner, entry.loser].includes(replicaId)).length;
}
