import { ConcordError, tableOf, type FromServerChange, type RowValues } from '@concord/shared';
import type { OutboxEntry } from '../storage/replica-db';
import { replicaState, type Tables } from '../storage/replica-state';
import { changedColumns, pickValues, presentColumns } from '../tracking/row-values';
import { applyServerRows, outbox, type SyncContext } from './sync-context';

type Row = Record<string, unknown>;

/**
 * A recovery under way, kept in `_state` until it completes, so an interrupted one starts again.
 * `known`: the last cursor the server recorded for this replica, a commit both sides share (0
 * when the replica registered anew). `lostWrites`: the server has applied fewer of this
 * replica's changes than it once acknowledged.
 */
export interface RecoveryPlan {
  known: number;
  lostWrites: boolean;
}

/** Errors after which a replica recovers: the server no longer knows its history, or the replica itself. */
const FORGOTTEN = new Set(['unknown_replica', 'epoch_changed']);
const BEHIND = new Set(['cursor_unknown', 'generation_gap']);

export function needsRecovery(error: unknown): error is ConcordError {
  return error instanceof ConcordError && (FORGOTTEN.has(error.code) || BEHIND.has(error.code));
}

/**
 * Starts a reinitialization with upload after the server lost this replica's history (a store
 * restored from a backup, or replaced). Pending changes are kept; their base generations are
 * lowered to what both sides still share, so a change is compared with whatever the server wrote
 * since rather than silently overwriting it; they get fresh local generations. The download
 * cursor goes back to 0; a server that forgot the replica makes it register anew. The download
 * that follows (`recoverPage`, `finishRecovery`) re-uploads what the server lost.
 */
export async function beginRecovery(ctx: SyncContext, error: ConcordError): Promise<void> {
  await ctx.syncTransaction(async (tx) => {
    const state = replicaState(tx);
    const sent = await state.get('sentGeneration', 0);
    const details = (error.details ?? {}) as { acknowledged?: unknown; pulled?: unknown };
    const forgotten = FORGOTTEN.has(error.code);
    const acknowledged = !forgotten && typeof details.acknowledged === 'number' ? details.acknowledged : 0;
    const known = !forgotten && typeof details.pulled === 'number' ? details.pulled : 0;
    const plan: RecoveryPlan = { known, lostWrites: acknowledged < sent };
    let generation = (await state.get('localGeneration', 0)) + 1;
    let used = 0;
    await outbox(tx)
      .toCollection()
      .modify((entry) => {
        if (used++ === ctx.maxUploadChanges) [generation, used] = [generation + 1, 1];
        entry.baseGeneration = Math.min(entry.baseGeneration, known);
        entry.localGeneration = generation;
      });
    await state.set({
      localGeneration: generation,
      sentGeneration: acknowledged,
      receivedGeneration: 0,
      receivedCommit: '',
      inFlight: null,
      inFlightBatch: null,
      recovery: plan,
      ...(forgotten && { replicaId: null, secret: null, epoch: null }),
    });
  });
}

/** What a recovery remembers between pages: the plan, and every row the server has. */
export interface Recovery extends RecoveryPlan {
  seen: Set<string>;
}

const keyOf = (table: string, rowguid: string) => `${table}\u0000${rowguid}`;

/**
 * Compares one downloaded page (this replica's own rows included) with the local rows, in the
 * page's transaction. Where the local row is later than the server's version — the server's is
 * one this replica had seen (up to `known`) or wrote itself, and the local row differs — the
 * local row goes up again as a change over the server's version: that is what the server lost.
 * A later foreign version is taken, unless this replica lost writes too: then its row goes up
 * from `known`, and the server compares the two (a conflict, never a silent overwrite).
 * Identical rows, and rows with a pending change, are left alone.
 */
export async function recoverPage(
  ctx: SyncContext,
  tx: Tables,
  changes: readonly FromServerChange[],
  recovery: Recovery,
): Promise<void> {
  const known = changes.filter((change) => tableOf(ctx.schema, change.table));
  for (const change of known) recovery.seen.add(keyOf(change.table, change.rowguid));
  const keys = known.map((change): [string, string] => [change.table, change.rowguid]);
  const pending = await outbox(tx).bulkGet(keys);
  const locals = await localRows(tx, known);
  const generation = (await replicaState(tx).get('localGeneration', 0)) + 1;
  const take: FromServerChange[] = [];
  const entries: OutboxEntry[] = [];
  known.forEach((change, i) => {
    const entry = pending[i];
    if (entry) {
      // A pending insert of a rowguid the server already has must go up, never cancel out.
      if (entry.inserted) entries.push({ ...entry, inserted: false });
      return;
    }
    const table = tableOf(ctx.schema, change.table)!;
    const local = locals[i];
    const server = change.deleted ? undefined : (change.values ?? {});
    const ours = change.generation <= recovery.known || change.own === true;
    if (!local && !server) return;
    if (local && server && changedColumns(table, server, local).length === 0) return;
    if (!ours && !recovery.lostWrites) return void take.push(change);
    const base = ours ? change.generation : recovery.known;
    if (!local) {
      // A row this replica deleted after it saw it: the delete goes up again (a foreign row it never had is taken).
      if (ours) entries.push(recovered(change, 'delete', [], pickValues(server, table.columnNames), base, generation));
      else take.push(change);
      return;
    }
    const columns = server ? changedColumns(table, server, local) : presentColumns(table, local);
    const baseValues = server && ours ? pickValues(server, columns) : {};
    entries.push(recovered(change, 'upsert', columns, baseValues, base, generation));
  });
  await applyServerRows(tx, ctx.schema, take);
  if (entries.length > 0) {
    await outbox(tx).bulkPut(entries);
    await replicaState(tx).set({ localGeneration: generation });
  }
}

/**
 * Ends a recovery, in the last page's transaction: local rows the server has no version of at
 * all go up as inserts (it lost them), and so do the rows of upload-only tables, which never
 * come down (those it holds already are no conflict). Then the plan is cleared.
 */
export async function finishRecovery(ctx: SyncContext, tx: Tables, recovery: Recovery): Promise<void> {
  const state = replicaState(tx);
  const generation = (await state.get('localGeneration', 0)) + 1;
  const entries: OutboxEntry[] = [];
  for (const table of Object.values(ctx.schema.tables)) {
    const rowguids = (await tx.table(table.name).toCollection().primaryKeys()) as string[];
    const lost = rowguids.filter((rowguid) => !recovery.seen.has(keyOf(table.name, rowguid)));
    const pending = await outbox(tx).bulkGet(lost.map((rowguid): [string, string] => [table.name, rowguid]));
    const unsent = lost.filter((_, i) => !pending[i]);
    const rows = (await tx.table(table.name).bulkGet(unsent)) as Row[];
    unsent.forEach((rowguid, i) => {
      const row = rows[i]!;
      entries.push({
        table: table.name,
        rowguid,
        op: 'upsert',
        columns: presentColumns(table, row),
        base: {},
        baseGeneration: 0,
        localGeneration: generation,
        inserted: true,
      });
    });
  }
  if (entries.length > 0) await outbox(tx).bulkPut(entries);
  await state.set({ localGeneration: generation, recovery: null });
}

function recovered(
  change: FromServerChange,
  op: OutboxEntry['op'],
  columns: string[],
  base: RowValues,
  baseGeneration: number,
  localGeneration: number,
): OutboxEntry {
  return {
    table: change.table,
    rowguid: change.rowguid,
    op,
    columns,
    base,
    baseGeneration,
    localGeneration,
    inserted: false,
  };
}

/** The local rows of the changes, in their order (undefined where none). */
async function localRows(tx: Tables, changes: readonly FromServerChange[]): Promise<(Row | undefined)[]> {
  const rows = new Map<string, Row | undefined>();
  for (const table of new Set(changes.map((change) => change.table))) {
    const rowguids = changes.filter((change) => change.table === table).map((change) => change.rowguid);
    const found = (await tx.table(table).bulkGet(rowguids)) as (Row | undefined)[];
    rowguids.forEach((rowguid, i) => rows.set(keyOf(table, rowguid), found[i]));
  }
  return changes.map((change) => rows.get(keyOf(change.table, change.rowguid)));
}
