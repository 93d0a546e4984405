import {
  ConcordError,
  sameValue,
  tableOf,
  type FromReplicaChangeInput,
  type FromServerChangeResult,
} from '@concord/shared';
import type { OutboxEntry } from '../storage/replica-db';
import { replicaState, type Tables } from '../storage/replica-state';
import { pickValues, presentColumns } from '../tracking/row-values';
import {
  applyServerRows,
  checkEpoch,
  groupBy,
  outbox,
  type ServerRow,
  type Session,
  type SyncContext,
} from './sync-context';

export interface UploadReport {
  uploaded: number;
  conflicts: number;
  rejected: number;
}

interface Batch {
  entries: OutboxEntry[];
  changes: FromReplicaChangeInput[];
  /** The local generations the batch covers: from one past the last acknowledged one to its last entry's. */
  from: number;
  to: number;
}

type Row = Record<string, unknown>;

/**
 * Uploads the outbox in local-generation order, in batches that never split a local
 * generation. Each response is applied at once: acknowledged entries leave the outbox and
 * rows the server resolved or rejected take the server's values — unless edited meanwhile.
 * A batch whose answer never came is sent again exactly as it was before anything newer, so
 * its answer (a replay if the server had applied it) settles what it carried.
 */
export async function upload(ctx: SyncContext, session: Session): Promise<UploadReport> {
  const report: UploadReport = { uploaded: 0, conflicts: 0, rejected: 0 };
  const pending = ctx.onProgress ? await ctx.syncTransaction((tx) => outbox(tx).count()) : 0;
  for (;;) {
    const batch = (await ctx.state.get<Batch | null>('inFlightBatch', null)) ?? (await takeBatch(ctx));
    if (!batch) return report;
    const response = await ctx.transport.push({
      schemaVersion: ctx.schema.version,
      replicaId: session.replicaId,
      secret: session.secret,
      fromLocalGeneration: batch.from,
      toLocalGeneration: batch.to,
      changes: batch.changes,
    });
    checkEpoch(session, response.epoch);
    checkAnswer(batch, response.results);
    await ctx.syncTransaction(async (tx) => {
      await settle(ctx, tx, batch, response.results);
      await replicaState(tx).set({ sentGeneration: response.acknowledged, inFlight: null, inFlightBatch: null });
    });
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

/** Reads the next batch and its rows' current values, and marks an upload in flight. */
async function takeBatch(ctx: SyncContext): Promise<Batch | undefined> {
  return ctx.syncTransaction(async (tx) => {
    const head = await outbox(tx)
      .orderBy('localGeneration')
      .limit(ctx.maxUploadChanges + 1)
      .toArray();
    if (head.length === 0) return undefined;
    let entries = head.slice(0, ctx.maxUploadChanges);
    const next = head[ctx.maxUploadChanges];
    const last = entries[entries.length - 1]!.localGeneration;
    if (next && next.localGeneration === last) {
      const whole = entries.filter((entry) => entry.localGeneration !== last);
      if (whole.length > 0) entries = whole;
    }
    const rows = await currentRows(tx, entries);
    const to = entries[entries.length - 1]!.localGeneration;
    const changes = entries.map((entry, i) => toChange(ctx, entry, rows[i], to));
    // The range starts right after what the server acknowledged, so it covers the generations
    // whose changes were coalesced into later ones or cancelled: the server never sees a gap.
    const acknowledged = await replicaState(tx).get('sentGeneration', 0);
    const from = Math.min(acknowledged + 1, entries[0]!.localGeneration);
    const batch: Batch = { entries, changes, from, to };
    await replicaState(tx).set({ inFlight: last, inFlightBatch: batch });
    return batch;
  });
}

/** The current local rows of the entries, in their order (undefined where a row is gone). */
async function currentRows(tx: Tables, entries: readonly OutboxEntry[]): Promise<(Row | undefined)[]> {
  const found = new Map<OutboxEntry, Row | undefined>();
  for (const [table, group] of groupBy(entries, (entry) => entry.table)) {
    const rows = (await tx.table(table).bulkGet(group.map((entry) => entry.rowguid))) as (Row | undefined)[];
    group.forEach((entry, i) => found.set(entry, rows[i]));
  }
  return entries.map((entry) => found.get(entry));
}

/** The entry as sent: fields at their protocol default (see `fromReplicaChange`) are left out. */
function toChange(ctx: SyncContext, entry: OutboxEntry, row: Row | undefined, to: number): FromReplicaChangeInput {
  const { table, rowguid, localGeneration, baseGeneration } = entry;
  const change: FromReplicaChangeInput = { table, rowguid };
  if (localGeneration !== to) change.localGeneration = localGeneration;
  if (baseGeneration !== 0) change.baseGeneration = baseGeneration;
  if (entry.op === 'delete' || !row) {
    change.op = 'delete';
    // The values the delete was made over, so that the server sees whether they were the latest.
    if (Object.keys(entry.base).length > 0) change.base = entry.base;
    return change;
  }
  const whole = entry.inserted || entry.replace;
  const columns = whole ? presentColumns(tableOf(ctx.schema, table)!, row) : entry.columns;
  change.values = pickValues(row, columns);
  if (entry.replace) {
    // The row it replaces, as the delete saw it: the server compares it like a delete's.
    change.replace = true;
    if (Object.keys(entry.base).length > 0) change.base = entry.base;
    return change;
  }
  const based = columns.filter((column) => Object.hasOwn(entry.base, column));
  if (based.length > 0) change.base = pickValues(entry.base, based);
  return change;
}

/**
 * Applies the server's answers. An entry unchanged since it was sent leaves the outbox and its
 * row takes the server's values. An entry edited again while the upload was in flight stays
 * pending with only the columns edited since, rebased on what was sent: the server's answer
 * settles the others, which take the server's version, so nothing it decided is sent twice.
 */
async function settle(ctx: SyncContext, tx: Tables, batch: Batch, results: readonly FromServerChangeResult[]) {
  // Every later edit has a newer local generation, so the entries still inside the batch's
  // range are exactly the unchanged ones: their keys suffice; only edited ones are read whole.
  const unchangedKeys = await outbox(tx)
    .where('localGeneration')
    .between(batch.from, batch.to, true, true)
    .primaryKeys();
  const unchanged = new Set(unchangedKeys.map(([table, rowguid]) => `${table}\u0000${rowguid}`));
  const isUnchanged = (entry: OutboxEntry) => unchanged.has(`${entry.table}\u0000${entry.rowguid}`);
  const maybeEdited = batch.entries.filter((entry) => !isUnchanged(entry));
  const editedEntries = await outbox(tx).bulkGet(maybeEdited.map((entry) => [entry.table, entry.rowguid]));
  const currentOf = new Map(maybeEdited.map((entry, i) => [entry, editedEntries[i]]));
  const edited = maybeEdited.filter((entry) => currentOf.get(entry));
  const editedRows = new Map(edited.map((entry, i) => [entry, i]));
  const rowsNow = await currentRows(tx, edited);
  const done: [string, string][] = [];
  const serverRows: ServerRow[] = [];
  const rebased: OutboxEntry[] = [];
  batch.entries.forEach((sent, i) => {
    const result = results[i]!;
    const current = isUnchanged(sent) ? sent : currentOf.get(sent);
    if (current?.localGeneration === sent.localGeneration) {
      done.push([sent.table, sent.rowguid]);
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
      const base = { ...current.base, ...sentValues };
      const wrote = result.outcome === 'applied' && batch.changes[i]!.op !== 'delete'; // op left out: an upsert
      const baseGeneration = wrote ? result.generation : current.baseGeneration;
      rebased.push({ ...current, columns, base, baseGeneration, inserted: false, replace: false });
    }
    // Take the server's version of the columns no longer pending (a merge brought in other
    // replicas' columns, or a resolution kept another value), keeping the pending ones.
    if (result.outcome !== 'applied' && row && current.op === 'upsert') {
      const values = result.values ? { ...result.values, ...pickValues(row, columns) } : null;
      if (values || columns.length === 0) serverRows.push({ table: sent.table, rowguid: sent.rowguid, values });
    }
  });
  await outbox(tx).bulkDelete(done);
  await outbox(tx).bulkPut(rebased);
  await applyServerRows(tx, ctx.schema, serverRows);
}
