import type { FromReplicaChange, FromServerChangeResult, RowValues } from '@concord/shared';
import type { OutboxEntry } from '../storage/replica-db';
import { replicaState, type Tables } from '../storage/replica-state';
import { pickValues, presentColumns, sameValue } from '../tracking/row-values';
import { applyServerRow, checkEpoch, outbox, rowMetas, type Session, type SyncContext } from './sync-context';

export interface UploadReport {
  uploaded: number;
  conflicts: number;
  rejected: number;
}

interface Batch {
  entries: OutboxEntry[];
  changes: FromReplicaChange[];
}

/**
 * Uploads the outbox in local-generation order, in batches that never split a local
 * generation. Each response is applied at once: acknowledged entries leave the outbox and
 * rows the server resolved or rejected take the server's values — unless edited meanwhile.
 */
export async function upload(ctx: SyncContext, { replicaId, epoch }: Session): Promise<UploadReport> {
  const report: UploadReport = { uploaded: 0, conflicts: 0, rejected: 0 };
  for (;;) {
    const batch = await takeBatch(ctx);
    if (!batch) return report;
    const gens = batch.entries.map((entry) => entry.localGeneration);
    const response = await ctx.transport.push({
      schemaVersion: ctx.schema.version,
      replicaId,
      fromLocalGeneration: Math.min(...gens),
      toLocalGeneration: Math.max(...gens),
      changes: batch.changes,
    });
    checkEpoch({ replicaId, epoch }, response.epoch);
    await ctx.syncTransaction(async (tx) => {
      for (const [i, result] of response.results.entries())
        await settle(ctx, tx, batch.entries[i]!, batch.changes[i]!, result);
      await replicaState(tx).set({ sentGeneration: response.acknowledged, inFlight: null });
    });
    report.uploaded += batch.changes.length;
    report.conflicts += response.results.filter((result) => result.outcome === 'conflict').length;
    report.rejected += response.results.filter((result) => result.outcome === 'rejected').length;
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
    const changes: FromReplicaChange[] = [];
    for (const entry of entries) changes.push(await toChange(ctx, tx, entry));
    await replicaState(tx).set({ inFlight: last });
    return { entries, changes };
  });
}

async function toChange(ctx: SyncContext, tx: Tables, entry: OutboxEntry): Promise<FromReplicaChange> {
  const table = ctx.schema.tables[entry.table]!;
  const { rowguid, localGeneration, baseGeneration } = entry;
  const row = entry.op === 'upsert' ? await tx.table(entry.table).get(rowguid) : undefined;
  if (!row) return { table: entry.table, rowguid, op: 'delete', localGeneration, baseGeneration };
  const columns = entry.inserted ? presentColumns(table, row) : entry.columns;
  const change: FromReplicaChange = {
    table: entry.table,
    rowguid,
    op: 'upsert',
    localGeneration,
    baseGeneration,
    values: pickValues(row, columns),
  };
  const base = pickValues(
    entry.base,
    columns.filter((column) => column in entry.base),
  );
  if (Object.keys(base).length > 0) change.base = base;
  return change;
}

/** Applies the server's answer for one uploaded change. */
async function settle(
  ctx: SyncContext,
  tx: Tables,
  sent: OutboxEntry,
  change: FromReplicaChange,
  result: FromServerChangeResult,
) {
  const key: [string, string] = [sent.table, sent.rowguid];
  const current = await outbox(tx).get(key);
  const table = ctx.schema.tables[sent.table]!;
  const remember = () =>
    result.generation > 0 &&
    rowMetas(tx).put({ table: sent.table, rowguid: sent.rowguid, generation: result.generation });
  if (current && current.localGeneration === sent.localGeneration) {
    await outbox(tx).delete(key);
    await remember();
    if (result.outcome !== 'applied')
      await applyServerRow(tx, table, sent.rowguid, result.deleted ? null : result.values);
    return;
  }
  // Edited again while the upload was in flight: keep the newer edit pending. Where the server
  // took this replica's version, the pending edit now builds on it: rebase it so that columns
  // not edited again are not sent twice (and cannot conflict with later writers).
  if (!current || (result.outcome !== 'applied' && result.outcome !== 'merged')) return;
  await remember();
  const row = await tx.table(sent.table).get(sent.rowguid);
  const sentValues: RowValues = change.values ?? {};
  const columns = current.columns.filter(
    (column) => !(column in sentValues) || !sameValue(row?.[column], sentValues[column]),
  );
  const base = { ...current.base, ...sentValues };
  if (current.op === 'upsert' && columns.length === 0) await outbox(tx).delete(key);
  else await outbox(tx).put({ ...current, columns, base, baseGeneration: result.generation, inserted: false });
}
