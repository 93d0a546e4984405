import { countOpenConflicts } from './conflicts/count-open-conflicts';
import type { createStatus } from './status';
import { outbox, type Tables } from './storage/replica-db';
import type { ReplicaState } from './storage/replica-state';

export interface StatusCountsOptions {
  db: Tables;
  state: ReplicaState;
  status: ReturnType<typeof createStatus>;
  /** Where a failed recount made in the background goes. */
  log(error: unknown): void;
}

/** Keeps the status's `replicaId`, `pending`, `pendingSince` and `openConflicts` true to the database. */
export function createStatusCounts({ db, state, status, log }: StatusCountsOptions) {
  /** Recounts the outbox and the open conflicts this replica knows of. */
  let begun = 0;
  let shown = 0;
  const count = async (): Promise<void> => {
    const order = ++begun;
    const replicaId = await state.get('replicaId');
    const openConflicts = await countOpenConflicts(db, replicaId);
    const pending = await outbox(db).count();
    const pendingSince = pending > 0 ? await state.get('pendingSince') : null;
    // Counts read in parallel may finish out of order: one begun earlier never hides a later one.
    if (order < shown) return;
    shown = order;
    status.update({ replicaId, pending, pendingSince, openConflicts });
  };
  const running = new Set<Promise<void>>();
  const recount = (): Promise<void> => {
    const counting = count();
    running.add(counting);
    void counting.finally(() => running.delete(counting)).catch(() => undefined); // its caller sees the error
    return counting;
  };
  let queued: ReturnType<typeof setTimeout> | undefined;
  return {
    recount,
    /** Recounts soon, once for a burst of writes: counting after every single write would double the cost of small transactions. */
    recountSoon(): void {
      if (queued) return;
      queued = setTimeout(() => {
        queued = undefined;
        void recount().catch(log);
      }, 20);
    },
    /** Drops a queued recount and waits for those under way, so that the database can close under none. */
    async close(): Promise<void> {
      clearTimeout(queued);
      await Promise.allSettled(running);
    },
  };
}
