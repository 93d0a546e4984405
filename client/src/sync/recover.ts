import { ConcordError, tableOf, type FromServerChange, type RowValues, type TableDef } from '@concord/shared';
import { nextLocalGeneration } from '../storage/next-local-generation';
import { outbox, type DeletedRecord, type OutboxEntry, type Tables } from '../storage/replica-db';
import { replicaState, type RecoveryPlan } from '../storage/replica-state';
import { changedColumns, pickValues, presentColumns } from '../storage/row-values';
import { applyServerRows, type SyncContext } from './sync-context';

type Row = Record<string, unknown>;

const keyOf = (table: string, rowguid: string) => `${table}\u0000${rowguid}`;

/**
 * Errors after which a replica recovers: the store is another one (`epoch_changed`), it forgot
 * the replica (`unknown_replica`: restored to before it registered), or it is behind what the
 * replica knows (`cursor_unknown`, `generation_gap`: restored from a backup).
 */
const RECOVER = new Set(['epoch_changed', 'unknown_replica', 'cursor_unknown', 'generation_gap']);

export function needsRecovery(error: unknown): error is ConcordError {
  return error instanceof ConcordError && RECOVER.has(error.code);
}

/**
 * Starts a reinitialization with upload after the server lost this replica's history (a store
 * restored from a backup, or replaced). Pending changes are kept, with fresh local generations;
 * the download cursor goes back to 0, and the replica registers anew. The download that follows (`shareHistory`, `recoverPage`, `finishRecovery`) compares
 * every row and re-uploads what the server lost.
 */
export async function beginRecovery(ctx: SyncContext, error: ConcordError): Promise<void> {
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
    const unanswered = new Set((inFlight?.entries ?? []).map((entry) => keyOf(entry.table, entry.rowguid)));
    const before = await state.get('localGeneration');
    const run = { localGeneration: before, used: 0 };
    await outbox(tx)
      .toCollection()
      .modify((entry) => {
        entry.localGeneration = nextLocalGeneration(run, ctx.maxUploadChanges);
        if (unanswered.has(keyOf(entry.table, entry.rowguid))) entry.inserted = false;
      });
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

/** What a recovery remembers between pages: the plan, and every row the server has. */
export interface Recovery extends RecoveryPlan {
  seen: Set<string>;
}

/**
 * With the first page: `shared` is the newest of the replica's old cursors the store still has,
 * so the histories agree up to it. Pending changes made over a generation past that point are
 * lowered to it: the store may have reached that generation under another commit, so each is
 * compared with whatever the store wrote since instead of silently laid over it.
 */
export async function shareHistory(ctx: SyncContext, tx: Tables, recovery: Recovery, shared: number): Promise<void> {
  recovery.known = Math.max(recovery.known, shared);
  const { known } = recovery;
  await outbox(tx)
    .filter((entry) => entry.baseGeneration > known)
    .modify((entry) => void (entry.baseGeneration = known));
  const { lostWrites, forgotten } = recovery;
  await replicaState(tx).set({ recovery: { known, lostWrites, forgotten } satisfies RecoveryPlan });
}

/**
 * Compares one downloaded page (this replica's own rows included) with the local rows, in the
 * page's transaction, and queues what the store lost:
 * - Where the store's version is one this replica had applied (up to `known`), a differing local
 *   row is later: it goes up again as a change over that version — the update, insert, delete,
 *   or delete and insert again (a replace) the store lost. A pending change gains the columns
 *   the store lost besides its own.
 * - A version past `known` is taken as it is — unless this replica lost changes of its own:
 *   then its differing row goes up as if never seen, so the store compares the two (a logged
 *   conflict, never a silent overwrite). A row it does not have is never deleted on a guess.
 * Identical rows are left alone.
 */
export async function recoverPage(
  ctx: SyncContext,
  tx: Tables,
  changes: readonly FromServerChange[],
  recovery: Recovery,
): Promise<void> {
  const known = changes.filter((change) => tableOf(ctx.schema, change.table));
  for (const change of known) recovery.seen.add(keyOf(change.table, change.rowguid));
  const pending = await outbox(tx).bulkGet(known.map((change): [string, string] => [change.table, change.rowguid]));
  const locals = await localRows(tx, known);
  const deletedKeys = recovery.lostWrites ? await deletedHere(tx, known) : new Set<string>();
  const generation = (await replicaState(tx).get('localGeneration')) + 1;
  const take: FromServerChange[] = [];
  const entries: OutboxEntry[] = [];
  known.forEach((change, i) => {
    const table = tableOf(ctx.schema, change.table)!;
    const server = change.deleted ? undefined : (change.values ?? {});
    const local = locals[i];
    const seen = change.generation <= recovery.known;
    const entry = pending[i];
    if (entry) {
      const updated = recoverPending(table, entry, change, server, local, seen, recovery.lostWrites);
      if (updated) entries.push(updated);
      return;
    }
    if (!local && !server) return;
    if (local && server && changedColumns(table, server, local).length === 0) return;
    const queue = (op: OutboxEntry['op'], columns: string[], base: RowValues, baseGeneration: number, blind = false) =>
      entries.push({ ...recovered(change, op, columns, base, baseGeneration, generation), ...(blind && { blind }) });
    if (seen) {
      // The local row is later than a version this replica had applied: the store lost what came after.
      if (!local) queue('delete', [], pickValues(server, table.columnNames), change.generation);
      else if (!server) queue('upsert', presentColumns(table, local), {}, change.generation);
      else
        queue(
          'upsert',
          changedColumns(table, server, local),
          pickValues(server, changedColumns(table, server, local)),
          change.generation,
        );
    } else if (recovery.lostWrites && local) {
      // Maybe a change the store lost, maybe a stale copy: the store decides, and logs it.
      const columns = server ? changedColumns(table, server, local) : presentColumns(table, local);
      queue('upsert', columns, {}, recovery.known, true);
    } else if (recovery.lostWrites && deletedKeys.has(keyOf(change.table, change.rowguid))) {
      // A row this replica deleted, the delete acknowledged: maybe the store lost it; it decides.
      queue('delete', [], {}, recovery.known, true);
    } else take.push(change);
  });
  await applyServerRows(tx, ctx.schema, take);
  if (entries.length > 0) {
    await outbox(tx).bulkPut(entries);
    await replicaState(tx).set({ localGeneration: generation });
  }
}

/**
 * A pending change, given what the store holds now, or undefined to leave it as it is. Over a
 * version this replica had applied: an insert of a row the store has becomes a replace of it (the
 * replica deleted the row and wrote it anew), an edit gains every other column the store lost,
 * and an edit of a row the store deleted becomes an insert over the tombstone. Past that version,
 * when the replica lost changes of its own, an edit gains its lost columns too and goes up blind,
 * so the store compares them all.
 */
function recoverPending(
  table: TableDef,
  entry: OutboxEntry,
  change: FromServerChange,
  server: RowValues | undefined,
  local: Row | undefined,
  seen: boolean,
  lostWrites: boolean,
): OutboxEntry | undefined {
  if (entry.op === 'delete' || !local) return undefined;
  if (!server) {
    return seen ? { ...entry, inserted: true, replace: false, base: {}, baseGeneration: change.generation } : undefined;
  }
  // An insert, or one whose push got no answer (no longer flagged, so it never cancels out).
  const insert = entry.inserted || (entry.baseGeneration === 0 && Object.keys(entry.base).length === 0);
  if (insert) {
    if (!seen) return entry.inserted ? { ...entry, inserted: false } : undefined; // a rowguid the server has: never cancel out
    const base = pickValues(server, table.columnNames);
    return { ...entry, inserted: false, replace: true, base, baseGeneration: change.generation };
  }
  if (!seen && !lostWrites) return undefined;
  const lost = changedColumns(table, server, local).filter((column) => !entry.columns.includes(column));
  if (lost.length === 0) return undefined;
  const base = { ...(seen ? pickValues(server, lost) : {}), ...entry.base };
  return { ...entry, columns: [...entry.columns, ...lost], base, ...(!seen && { blind: true }) };
}

/**
 * Ends a recovery, in the last page's transaction, with the local rows the server has no version
 * of at all. With a pending change, when this replica lost changes of its own (the row may be
 * one), or when the two histories share nothing (a replaced store: the replicas hold the only
 * copies), such a row goes up as an insert; otherwise it is one this replica downloaded from a
 * commit the store lost — its writer, which re-uploads what it still holds, may have deleted it
 * since — so it goes, as the store has it. Rows of upload-only tables, which never come down, go
 * up as inserts (those the store holds already are no conflict). Then the plan is cleared.
 */
export async function finishRecovery(ctx: SyncContext, tx: Tables, recovery: Recovery): Promise<void> {
  const state = replicaState(tx);
  const generation = (await state.get('localGeneration')) + 1;
  const entries: OutboxEntry[] = [];
  for (const table of Object.values(ctx.schema.tables)) {
    const rowguids = (await tx.table(table.name).toCollection().primaryKeys()) as string[];
    const lost = rowguids.filter((rowguid) => !recovery.seen.has(keyOf(table.name, rowguid)));
    const pending = await outbox(tx).bulkGet(lost.map((rowguid): [string, string] => [table.name, rowguid]));
    const rows = (await tx.table(table.name).bulkGet(lost)) as Row[];
    const downloaded = table.direction !== 'upload-only' && !recovery.lostWrites && !recovery.forgotten;
    const gone = lost.filter((_, i) => downloaded && !pending[i]);
    if (gone.length > 0) await tx.table(table.name).bulkDelete(gone);
    lost.forEach((rowguid, i) => {
      const entry = pending[i];
      if (entry?.op === 'delete' || entry?.inserted || (downloaded && !entry)) return;
      const insert: OutboxEntry = {
        table: table.name,
        rowguid,
        op: 'upsert',
        columns: presentColumns(table, rows[i]!),
        base: {},
        baseGeneration: 0,
        localGeneration: entry?.localGeneration ?? generation,
        inserted: true,
      };
      // A store restored from a backup may meet another replica's lost delete of the row again.
      entries.push(recovery.forgotten ? insert : { ...insert, blind: true });
    });
  }
  if (recovery.lostWrites && !recovery.forgotten) entries.push(...(await lostDeletes(tx, recovery, generation)));
  if (entries.length > 0) await outbox(tx).bulkPut(entries);
  await state.set({ localGeneration: generation, recovery: null });
}

/**
 * The deletes this replica had acknowledged whose rows the store has no version of: they go up
 * again, blind, so a row another replica sends again meets them as a conflict, not as a new row.
 */
async function lostDeletes(tx: Tables, recovery: Recovery, generation: number): Promise<OutboxEntry[]> {
  const records = await tx.table<DeletedRecord>('_deleted').toArray();
  const unseen = records.filter(({ table, rowguid }) => !recovery.seen.has(keyOf(table, rowguid)));
  const keys = unseen.map(({ table, rowguid }): [string, string] => [table, rowguid]);
  const pending = await outbox(tx).bulkGet(keys);
  const entries: OutboxEntry[] = [];
  for (const [i, { table, rowguid }] of unseen.entries()) {
    if (pending[i] || (await tx.table(table).get(rowguid)) !== undefined) continue;
    entries.push({ ...recovered({ table, rowguid }, 'delete', [], {}, recovery.known, generation), blind: true });
  }
  return entries;
}

/** The keys of the changes whose rows this replica deleted, the deletes acknowledged. */
async function deletedHere(tx: Tables, changes: readonly FromServerChange[]): Promise<Set<string>> {
  const keys = changes.map((change): [string, string] => [change.table, change.rowguid]);
  const found = await tx.table<DeletedRecord>('_deleted').bulkGet(keys);
  return new Set(found.filter((record) => record !== undefined).map((record) => keyOf(record!.table, record!.rowguid)));
}

function recovered(
  change: Pick<FromServerChange, 'table' | 'rowguid'>,
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
