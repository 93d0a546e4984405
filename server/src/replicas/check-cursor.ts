import { ConcordError } from '@concord/shared';
import type { ReplicaRecord, Store } from '../storage/store';

/**
 * Refuses a download cursor the store does not have — ahead of it, or at a generation it reached
 * under another commit, as a store restored from a backup does — with `cursor_unknown` and the
 * replica's watermarks as the store knows them. A pull checks the cursor it starts from; a push
 * checks the cursor its base generations were taken against, so no change made over a history
 * the store does not have is applied.
 */
export async function checkCursor(
  store: Store,
  replica: ReplicaRecord,
  after: number,
  commit: string | undefined,
): Promise<void> {
  if (after === 0) return;
  if (commit !== undefined && (await store.commitAt(after)) === commit) return;
  throw new ConcordError(
    'cursor_unknown',
    `the server has no commit ${commit ?? '(none given)'} at generation ${after}: its store was restored or replaced`,
    { acknowledged: replica.lastAppliedLocalGeneration, pulled: replica.lastPulledGeneration },
  );
}
