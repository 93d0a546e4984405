import { tableOf, type FromServerChange } from '@concord/shared';
import { outbox, type Tables } from '../storage/replica-db';
import { replicaState } from '../storage/replica-state';
import { applyServerRows } from './apply-server-rows';
import { takeCrdtPayloads } from '../storage/crdt-fields';
import { rememberCursor } from './cursor-history';
import { finishRecovery } from './finish-recovery';
import { recoverPage, shareHistory, type Recovery } from './recover-page';
import { checkEpoch, type Session } from './session';
import type { SyncContext } from './sync-context';

/** The first page of a round stays small, so the first rows are queryable early in a long download. */
const FIRST_PAGE = 1_000;

/**
 * Downloads the server's changes after `receivedGeneration`, page by page. Each page is applied
 * in one transaction together with its cursor, so an interrupted download resumes exactly where
 * it stopped. A row with a pending local change keeps its local value: the server resolves it
 * when that change goes up.
 */
export async function download(ctx: SyncContext, session: Session, recovery?: Recovery): Promise<number> {
  let downloaded = 0;
  // Each page commits its cursor, so the next page starts from the cursor the last one gave. A
  // recovery compares every row, so it always starts from the beginning.
  let after = recovery ? 0 : await ctx.state.get('receivedGeneration');
  let commit = recovery ? '' : await ctx.state.get('receivedCommit');
  let history = await ctx.state.get('cursors');
  // Every pull says what the replica knows was applied: a store that lost it is noticed even
  // when the replica has nothing to push.
  const acknowledged = await ctx.state.get('sentGeneration');
  for (let first = true; ; first = false) {
    const page = await ctx.transport.pull({
      schemaVersion: ctx.schema.version,
      replicaId: session.replicaId,
      secret: session.secret,
      after,
      ...(commit && { commit }),
      limit: downloaded === 0 ? Math.min(FIRST_PAGE, ctx.maxDownloadChanges) : ctx.maxDownloadChanges,
      acknowledged,
      // A recovery compares its own rows too, and asks which of its old cursors the store still has.
      ...(recovery && { own: true }),
      ...(recovery && first && !recovery.realign && { cursors: [...history] }),
      ...(recovery?.tables && { tables: recovery.tables }),
    });
    checkEpoch(session, page.epoch);
    // Reinitializing some tables, the replica does not stand on the cursors their pages reach.
    const moves = !recovery?.tables;
    if (moves) history = rememberCursor(history, { generation: page.cursor, commit: page.commit });
    const merged = await ctx.syncTransaction(async (tx) => {
      if (recovery && first && !recovery.realign) await shareHistory(tx, recovery, page.shared ?? 0);
      if (recovery) await recoverPage(ctx, tx, page.changes, recovery);
      else await applyPage(ctx, tx, page.changes);
      // Rows with pending changes too: a CRDT column merges what others wrote into its own edits.
      const updates = await takeCrdtPayloads(tx, ctx.schema, page.changes);
      if (recovery && !page.more) await finishRecovery(ctx, tx, recovery);
      if (moves) {
        await replicaState(tx).set({ receivedGeneration: page.cursor, receivedCommit: page.commit, cursors: history });
      }
      return updates;
    });
    if (merged.length > 0) ctx.onCrdt?.(merged);
    [after, commit] = [page.cursor, page.commit];
    downloaded += page.changes.length;
    const left = page.more ? Math.max(page.generation - page.cursor, 1) : 0;
    if (downloaded + left > 0) ctx.onProgress?.({ phase: 'download', done: downloaded, total: downloaded + left });
    if (!page.more) return downloaded;
  }
}

/** Applies a page: every row without a pending local change takes the server's version. */
async function applyPage(ctx: SyncContext, tx: Tables, changes: readonly FromServerChange[]): Promise<void> {
  const keys = changes.map((change): [string, string] => [change.table, change.rowguid]);
  const pending = (await outbox(tx).count()) > 0 ? await outbox(tx).bulkGet(keys) : [];
  await applyServerRows(
    tx,
    ctx.schema,
    changes.filter((change, i) => !pending[i] && tableOf(ctx.schema, change.table)),
  );
  // A pending insert of a rowguid the server already has must go up, never cancel out.
  const known = pending.filter((entry) => entry?.inserted).map((entry) => ({ ...entry!, inserted: false }));
  if (known.length > 0) await outbox(tx).bulkPut(known);
}
