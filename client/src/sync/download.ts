import { replicaState } from '../storage/replica-state';
import { applyServerRows, checkEpoch, outbox, rowMetas, type Session, type SyncContext } from './sync-context';

/**
 * Downloads the server's changes after `receivedGeneration`, page by page. Each page is applied
 * in one transaction together with its cursor, so an interrupted download resumes exactly where
 * it stopped. A row with a pending local change keeps its local value: the server resolves it
 * when that change goes up.
 */
export async function download(ctx: SyncContext, session: Session): Promise<number> {
  let downloaded = 0;
  for (;;) {
    const after = await ctx.state.get('receivedGeneration', 0);
    const page = await ctx.transport.pull({
      schemaVersion: ctx.schema.version,
      replicaId: session.replicaId,
      after,
      limit: ctx.maxDownloadChanges,
    });
    checkEpoch(session, page.epoch);
    await ctx.syncTransaction(async (tx) => {
      const pending = await outbox(tx).bulkGet(page.changes.map((change) => [change.table, change.rowguid]));
      const changes = page.changes.filter((change, i) => !pending[i] && ctx.schema.tables[change.table]);
      await applyServerRows(tx, ctx.schema, changes);
      await rowMetas(tx).bulkPut(changes.map(({ table, rowguid, generation }) => ({ table, rowguid, generation })));
      await replicaState(tx).set({ receivedGeneration: page.cursor });
    });
    downloaded += page.changes.length;
    if (!page.more) return downloaded;
  }
}
