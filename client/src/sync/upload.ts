import { ConcordError, sameValue, type FromServerChangeResult } from '@concord/shared';
import { outbox, rowKey, type DeletedRecord, type OutboxEntry, type Tables } from '../storage/replica-db';
import { replicaState, type Batch } from '../storage/replica-state';
import { pickValues } from '../storage/row-values';
import { applyServerRows, type ServerRow } from './apply-server-rows';
import { noteSent, takeCrdtPayloads, type CrdtUpdate } from '../storage/crdt-fields';
import { checkEpoch, type Session } from './session';
import type { SyncContext } from './sync-context';
import { currentRows, takeBatch } from './take-batch';

export interface UploadReport {
  uploaded: number;
  conflicts: number;
  rejected: number;
  /** Changes too large for any push the server accepts: still pending, and reported as an error. */
  oversized: OutboxEntry[];
}

/**
 * Uploads the outbox in local-generation order, in batches that fit the server's limits (see
 * `takeBatch`) and never split a local generation. Each response is applied at once: acknowledged entries leave the outbox and
 * rows the server resolved or rejected take the server's values — unless edited meanwhile.
 * A batch whose answer never came is sent again exactly as it was before anything newer, so
 * its answer (a replay if the server had applied it) settles what it carried.
 */
export async function upload(ctx: SyncContext, session: Session): Promise<UploadReport> {
  const report: UploadReport = { uploaded: 0, conflicts: 0, rejected: 0, oversized: [] };
  const pending = ctx.onProgress ? await ctx.syncTransaction((tx) => outbox(tx).count()) : 0;
  const oversized = new Map<string, OutboxEntry>();
  for (;;) {
    let batch = await ctx.state.get('inFlightBatch');
    if (!batch) {
      const taken = await takeBatch(ctx);
      for (const entry of taken.oversized) oversized.set(rowKey(entry.table, entry.rowguid), entry);
      batch = taken.batch ?? null;
    }
    if (!batch) {
      if (report.uploaded > 0) await forgetPendingSince(ctx);
      return { ...report, oversized: [...oversized.values()] };
    }
    const response = await ctx.transport.push({
      schemaVersion: ctx.schema.version,
      replicaId: session.replicaId,
      secret: session.secret,
      fromLocalGeneration: batch.from,
      toLocalGeneration: batch.to,
      changes: batch.changes,
      // The history the changes' bases belong to: a store restored from a backup refuses them.
      ...(await cursorOf(ctx)),
    });
    checkEpoch(session, response.epoch);
    checkAnswer(batch, response.results);
    const merged = await ctx.syncTransaction(async (tx) => {
      const updates = await settle(ctx, tx, batch, response.results);
      await replicaState(tx).set({
        sentGeneration: response.acknowledged,
        // Under any of its identities: a store that forgets this one may have lost those changes.
        acknowledgedEver: response.acknowledged > 0 || (await replicaState(tx).get('acknowledgedEver')),
        inFlight: null,
        inFlightBatch: null,
      });
      return updates;
    });
    if (merged.length > 0) ctx.onCrdt?.(merged);
    report.uploaded += batch.changes.length;
    ctx.onProgress?.({ phase: 'upload', done: report.uploaded, total: Math.max(pending, report.uploaded) });
    report.conflicts += response.results.filter((result) => result.outcome === 'conflict').length;
    report.rejected += response.results.filter((result) => result.outcome === 'rejected').length;
  }
}

/**
 * Refuses an answer whose results are not exactly the batch's changes, in order: settling by
 * position would acknowledge one row with another's outcome. The round fails and the batch stays
 * in flight, to be sent again.
 */
function checkAnswer(batch: Batch, results: readonly FromServerChangeResult[]): void {
  const mismatch = batch.entries.findIndex(
    (entry, i) => results[i]?.table !== entry.table || results[i]?.rowguid !== entry.rowguid,
  );
  if (results.length !== batch.entries.length || mismatch >= 0) {
    throw new ConcordError(
      'internal',
      `the server's answer does not match the batch sent (${results.length} results for ${batch.entries.length} changes${mismatch >= 0 ? `, the first mismatch at ${mismatch}` : ''})`,
    );
  }
}

/**
 * Applies the server's answers. An entry unchanged since it was sent leaves the outbox and its
 * row takes the server's values. An entry edited again while the upload was in flight stays
 * pending with only the columns edited since, rebased on what was sent: the server's answer
 * settles the others, which take the server's version, so nothing it decided is sent twice.
 */
async function settle(
  ctx: SyncContext,
  tx: Tables,
  batch: Batch,
  results: readonly FromServerChangeResult[],
): Promise<CrdtUpdate[]> {
  // Every later edit has a newer local generation, so the entries still inside the batch's
  // range are exactly the unchanged ones: their keys suffice; only edited ones are read whole.
  const unchangedKeys = await outbox(tx)
    .where('localGeneration')
    .between(batch.from, batch.to, true, true)
    .primaryKeys();
  const unchanged = new Set(unchangedKeys.map(([table, rowguid]) => rowKey(table, rowguid)));
  const isUnchanged = (entry: OutboxEntry) => unchanged.has(rowKey(entry.table, entry.rowguid));
  const maybeEdited = batch.entries.filter((entry) => !isUnchanged(entry));
  const editedEntries = await outbox(tx).bulkGet(maybeEdited.map((entry) => [entry.table, entry.rowguid]));
  const currentOf = new Map(maybeEdited.map((entry, i) => [entry, editedEntries[i]]));
  const edited = maybeEdited.filter((entry) => currentOf.get(entry));
  const editedRows = new Map(edited.map((entry, i) => [entry, i]));
  const rowsNow = await currentRows(tx, edited);
  const done: [string, string][] = [];
  const deleted: DeletedRecord[] = [];
  const serverRows: ServerRow[] = [];
  const rebased: OutboxEntry[] = [];
  batch.entries.forEach((sent, i) => {
    const result = results[i]!;
    const current = isUnchanged(sent) ? sent : currentOf.get(sent);
    if (current?.localGeneration === sent.localGeneration) {
      done.push([sent.table, sent.rowguid]);
      if (batch.changes[i]!.op === 'delete' && result.deleted)
        deleted.push({ table: sent.table, rowguid: sent.rowguid });
      if (result.outcome !== 'applied') {
        serverRows.push({ table: sent.table, rowguid: sent.rowguid, values: result.deleted ? null : result.values });
      }
      return;
    }
    if (!current) return;
    const row = rowsNow[editedRows.get(sent)!];
    const sentValues = batch.changes[i]!.values ?? {};
    // The server has judged what was sent: only columns edited again since stay pending, or a
    // value it merged or resolved away would go up again and undo its decision.
    const columns = current.columns.filter(
      (column) => !Object.hasOwn(sentValues, column) || !sameValue(row?.[column], sentValues[column]),
    );
    if (current.op === 'upsert' && columns.length === 0) done.push([sent.table, sent.rowguid]);
    else {
      // The server holds what was sent as this replica's own: later edits build on those values.
      // Only an applied upsert proves the server wrote exactly it, with no other replica's change
      // between (a delete of a deleted row is applied too, over someone else's tombstone), so
      // only then do they build on its generation; otherwise they must still meet what they never saw.
      const sentChange = batch.changes[i]!;
      const base = { ...current.base, ...sentValues };
      const wrote = result.outcome === 'applied' && sentChange.op !== 'delete'; // op left out: an upsert
      const baseGeneration = wrote ? result.generation : current.baseGeneration;
      // A row the server does not hold at all (an insert it refused) goes up whole, as an insert.
      const absent = current.op === 'upsert' && result.generation === 0 && result.values == null;
      // A replace made since the sent change still replaces whatever the server now holds.
      const replace = current.replace === true && sentChange.replace !== true;
      rebased.push(
        absent
          ? { ...current, base: {}, baseGeneration: 0, inserted: true, replace: false }
          : { ...current, columns, base, baseGeneration, inserted: false, replace, blind: false },
      );
    }
    // Take the server's version of the columns no longer pending (a merge brought in other
    // replicas' columns, or a resolution kept another value), keeping the pending ones.
    if (result.outcome !== 'applied' && row && current.op === 'upsert') {
      const values = result.values ? { ...result.values, ...pickValues(row, columns) } : null;
      if (values || columns.length === 0) serverRows.push({ table: sent.table, rowguid: sent.rowguid, values });
    }
  });
  await outbox(tx).bulkDelete(done);
  if (deleted.length > 0) await tx.table<DeletedRecord>('_deleted').bulkPut(deleted);
  await outbox(tx).bulkPut(rebased);
  await applyServerRows(tx, ctx.schema, serverRows);
  // What others wrote to the CRDT columns it edited comes back with the answer: merged in, the
  // row's text then holds both, its own unsent edits included.
  for (const [i, change] of batch.changes.entries()) {
    if (change.crdt) await noteSent(tx, change, results[i]!.outcome !== 'rejected');
  }
  const answered = batch.entries.map(({ table, rowguid }, i) => ({ ...results[i]!, table, rowguid }));
  return takeCrdtPayloads(tx, ctx.schema, answered);
}

/** Once a round's uploads leave the outbox empty, nothing is pending since any time. */
async function forgetPendingSince(ctx: SyncContext): Promise<void> {
  await ctx.syncTransaction(async (tx) => {
    if ((await outbox(tx).count()) === 0) await replicaState(tx).set({ pendingSince: null });
  });
}

/** The replica's download cursor, as a push carries it. */
async function cursorOf(ctx: SyncContext): Promise<{ after: number; commit?: string }> {
  const after = await ctx.state.get('receivedGeneration');
  const commit = await ctx.state.get('receivedCommit');
  return commit ? { after, commit } : { after };
}
