import { ConcordError } from '@concord/shared';
import { download } from './download';
import { beginRecovery, needsRecovery } from './begin-recovery';
import type { Session } from './session';
import type { SyncContext } from './sync-context';
import { upload } from './upload';

/** What one sync round did. */
export interface SyncReport {
  uploaded: number;
  downloaded: number;
  conflicts: number;
  rejected: number;
  /** Why this round reinitialized the replica (an error code such as `expired_replica`), or null. */
  reinitialized: string | null;
}

/**
 * One round: register if needed, upload, then download. A server that lost this replica's history
 * — it forgot the replica, its store is another one, it refuses the download cursor, or it has
 * applied fewer of the replica's changes than it once acknowledged (a store restored from a
 * backup) — starts a reinitialization with upload (see `beginRecovery`), then the round runs again.
 * So does a replica whose partition changed, or one the server expired (not seen within its
 * retention period), to download afresh.
 */
export async function syncRound(ctx: SyncContext, now: () => Date): Promise<SyncReport> {
  // What a round did before it had to recover is part of the report too: its uploads happened.
  const report: SyncReport = { uploaded: 0, downloaded: 0, conflicts: 0, rejected: 0, reinitialized: null };
  try {
    await round(ctx, now, report);
  } catch (error) {
    if (!needsRecovery(error)) throw error;
    await beginRecovery(ctx, error);
    report.reinitialized = error.code;
    await round(ctx, now, report);
  }
  return report;
}

async function round(ctx: SyncContext, now: () => Date, report: SyncReport): Promise<void> {
  const session = await register(ctx);
  // A recovery (begun in this round or an interrupted earlier one) compares every row first.
  const recovery = await ctx.state.get('recovery');
  if (recovery) await download(ctx, session, { ...recovery, seen: new Set() });
  const { oversized, ...uploaded } = await upload(ctx, session);
  report.uploaded += uploaded.uploaded;
  report.conflicts += uploaded.conflicts;
  report.rejected += uploaded.rejected;
  report.downloaded += await download(ctx, session);
  await ctx.state.set({ lastSyncAt: now().toISOString() });
  if (oversized.length > 0) {
    // Everything else went up and came down; these stay pending until they are edited smaller.
    const rows = oversized.map(({ table, rowguid }) => ({ table, rowguid }));
    throw new ConcordError(
      'payload_too_large',
      `${rows.length} change(s) are too large for any push the server accepts (${rows
        .slice(0, 3)
        .map((row) => `${row.table}.${row.rowguid}`)
        .join(', ')}${rows.length > 3 ? ', …' : ''}); they stay pending until edited smaller`,
      { changes: rows },
    );
  }
}

async function register(ctx: SyncContext): Promise<Session> {
  const replicaId = await ctx.state.get('replicaId');
  const epoch = await ctx.state.get('epoch');
  const secret = await ctx.state.get('secret');
  if (replicaId && epoch && secret) return { replicaId, epoch, secret };
  // A replica registered by an older version has no credential: it can only register anew.
  if (replicaId) throw new ConcordError('unknown_replica', 'this replica holds no credential; it registers anew');
  const registered = await ctx.transport.register(ctx.schema.version);
  await ctx.state.set({
    replicaId: registered.replicaId,
    secret: registered.secret,
    epoch: registered.epoch,
    priority: registered.priority,
    serverLimits: registered.limits,
  });
  return { replicaId: registered.replicaId, epoch: registered.epoch, secret: registered.secret };
}
