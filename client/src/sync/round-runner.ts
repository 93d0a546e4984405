import { ConcordError } from '@concord/shared';
import type { createStatus } from '../status';
import type { ReplicaState } from '../storage/replica-state';
import type { SyncContext } from './sync-context';
import { syncRound, type SyncReport } from './sync-round';

export interface RoundRunnerOptions {
  ctx: SyncContext;
  state: ReplicaState;
  status: ReturnType<typeof createStatus>;
  now: () => Date;
  /** Runs after every round, failed or not (recounting the outbox, refreshing conflicts). */
  after: (report: SyncReport | undefined) => Promise<void>;
}

/**
 * Runs sync rounds one at a time and keeps the status true to them. A call made while a round
 * runs gets one more round after it (never more than one queued), so a write made during a
 * round is never left waiting for the next trigger.
 */
export function createRoundRunner({ ctx, state, status, now, after }: RoundRunnerOptions) {
  let running: Promise<SyncReport> | undefined;
  let queued: Promise<SyncReport> | undefined;

  const runRound = async (): Promise<SyncReport> => {
    status.update({ state: 'syncing' });
    let report: SyncReport | undefined;
    try {
      report = await syncRound(ctx, now);
      status.update({ state: 'idle', error: null, lastSyncAt: await state.get('lastSyncAt') });
      if (report.reinitialized)
        status.update({ reinitialized: { reason: report.reinitialized, at: now().toISOString() } });
      return report;
    } catch (error) {
      const concord = error instanceof ConcordError ? error : new ConcordError('internal', String(error));
      const offline = (concord.details as { offline?: boolean } | undefined)?.offline === true;
      const { code, message, details } = concord;
      status.update({
        state: offline ? 'offline' : 'error',
        error: { code, message, ...(details !== undefined && { details }) },
      });
      throw error;
    } finally {
      status.update({ progress: null });
      await after(report);
    }
  };
  const sync = (): Promise<SyncReport> => {
    if (!running) {
      running = runRound().finally(() => (running = undefined));
      return running;
    }
    queued ??= running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        queued = undefined;
        return sync();
      });
    return queued;
  };
  return {
    sync,
    /** Settles when no round is running or queued. */
    idle: () => Promise.allSettled([running, queued]).then(() => undefined),
  };
}
