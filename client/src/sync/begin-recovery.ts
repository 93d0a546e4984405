import { ConcordError } from '@concord/shared';
import { forgetAcked } from '../storage/crdt-fields';
import { nextLocalGeneration } from '../storage/next-local-generation';
import { outbox, rowKey } from '../storage/replica-db';
import { replicaState, type RecoveryPlan } from '../storage/replica-state';
import type { SyncContext } from './sync-context';

/**
 * Errors after which a replica recovers: the store is another one (`epoch_changed`), it forgot
 * the replica (`unknown_replica`: restored to before it registered), it is behind what the
 * replica knows (`cursor_unknown`, `generation_gap`: restored from a backup), the replica's
 * partition changed (`partition_changed`), or the server expired it (`expired_replica`: not seen
 * within its retention period, so tombstones it never downloaded may be gone). The last two lost
 * nothing of the replica's: it downloads afresh.
 */
const RECOVER = new Set([
  'epoch_changed',
  'unknown_replica',
  'cursor_unknown',
  'generation_gap',
  'partition_changed',
  'expired_replica',
]);

export function needsRecovery(error: unknown): error is ConcordError {
  return error instanceof ConcordError && RECOVER.has(error.code);
}

/**
 * Starts a reinitialization with upload after the server lost this replica's history (a store
 * restored from a backup, or replaced). Pending changes are kept, with fresh local generations;
 * the download cursor goes back to 0, and the replica registers anew. The download that follows
 * (`shareHistory`, `recoverPage`, `finishRecovery`) compares every row and re-uploads what the
 * server lost. A changed partition lost nothing: it only downloads afresh (`beginRealignment`).
 */
export async function beginRecovery(ctx: SyncContext, error: ConcordError): Promise<void> {
  if (error.code === 'partition_changed' || error.code === 'expired_replica') return beginRealignment(ctx);
  await ctx.syncTransaction(async (tx) => {
    const state = replicaState(tx);
    const acknowledgedHere = await state.get('sentGeneration');
    const details = (error.details ?? {}) as { acknowledged?: unknown; pulled?: unknown };
    const forgotten = error.code === 'epoch_changed';
    // A store that forgot the replica knows nothing of it; one behind it says what it knows.
    const unknown = forgotten || error.code === 'unknown_replica';
    const acknowledged = !unknown && typeof details.acknowledged === 'number' ? details.acknowledged : 0;
    const known = !unknown && typeof details.pulled === 'number' ? details.pulled : 0;
    // A store that forgot the replica may have lost whatever it ever acknowledged, under any identity.
    const lostWrites = unknown ? await state.get('acknowledgedEver') : acknowledged < acknowledgedHere;
    const plan: RecoveryPlan = { known, lostWrites, forgotten };
    // An insert whose push got no answer may have reached the server (and other replicas): from
    // now on it must go up, even when deleted again, never cancel out.
    const inFlight = await state.get('inFlightBatch');
    const unanswered = new Set((inFlight?.entries ?? []).map((entry) => rowKey(entry.table, entry.rowguid)));
    const before = await state.get('localGeneration');
    const run = { localGeneration: before, used: 0 };
    await outbox(tx)
      .toCollection()
      .modify((entry) => {
        entry.localGeneration = nextLocalGeneration(run, ctx.maxUploadChanges);
        if (unanswered.has(rowKey(entry.table, entry.rowguid))) entry.inserted = false;
      });
    // The store may have lost any CRDT update it held: uploads send whole states again.
    await forgetAcked(tx);
    await state.set({
      // A fresh generation even when nothing is pending.
      localGeneration: Math.max(run.localGeneration, before + 1),
      sentGeneration: 0, // of the replica it registers as
      receivedGeneration: 0,
      receivedCommit: '',
      inFlight: null,
      inFlightBatch: null,
      recovery: plan,
      // It registers anew, always: a late copy of one of its old pushes, which the store, its
      // watermark lowered, would apply again, is then another replica's change that it downloads
      // rather than one of its own that it would never be sent. Its old cursors still tell what a
      // restored store shares with it.
      replicaId: null,
      secret: null,
      epoch: null,
      ...(forgotten && { cursors: [] }),
    });
  });
}

/**
 * Starts downloading afresh: a changed partition (its identity's claims changed, or the server's
 * filters), or an expired replica. The registration and pending changes stay as they are (an
 * expired replica's went up first, and the server compared them with whatever it holds), the
 * download starts from 0, and rows the server no longer gives it are dropped at its end —
 * unless a pending change holds them, which then goes up and is judged again.
 */
async function beginRealignment(ctx: SyncContext): Promise<void> {
  // The cursor stays: the download starts from 0 anyway, and an edit made before it ends is
  // based, as every edit is, on the version the replica last downloaded.
  await ctx.state.set({ recovery: { known: 0, lostWrites: false, forgotten: false, realign: true } });
}
