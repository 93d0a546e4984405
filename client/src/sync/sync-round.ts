import { ConcordError } from '@concord/shared';
import { download } from './download';
import { reinitialize } from './reinitialize';
import type { Session, SyncContext } from './sync-context';
import { upload } from './upload';

/** What one sync round did. */
export interface SyncReport {
  uploaded: number;
  downloaded: number;
  conflicts: number;
  rejected: number;
}

/**
 * Errors that mean the server no longer knows this replica's history: it forgot the replica, its
 * store is another or older one, or it has applied fewer of this replica's changes than it once
 * acknowledged (a gap: the store was restored from a backup).
 */
const LOST = new Set(['unknown_replica', 'cursor_unknown', 'epoch_changed', 'generation_gap']);

/** One round: register if needed, upload, then download. A server that lost this replica triggers one reinitialization. */
export async function syncRound(ctx: SyncContext, now: () => Date): Promise<SyncReport> {
  try {
    return await round(ctx, now);
  } catch (error) {
    if (!(error instanceof ConcordError) || !LOST.has(error.code)) throw error;
    await reinitialize(ctx);
    return round(ctx, now);
  }
}

async function round(ctx: SyncContext, now: () => Date): Promise<SyncReport> {
  const session = await register(ctx);
  const { oversized, ...uploaded } = await upload(ctx, session);
  const downloaded = await download(ctx, session);
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
  return { ...uploaded, downloaded };
}

async function register(ctx: SyncContext): Promise<Session> {
  const replicaId = await ctx.state.get<string | null>('replicaId', null);
  const epoch = await ctx.state.get<string | null>('epoch', null);
  const secret = await ctx.state.get<string | null>('secret', null);
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
