import { tableOf, type FromServerChange, type RowValues, type TableDef } from '@concord/shared';
import { outbox, rowKey, type DeletedRecord, type OutboxEntry, type Tables } from '../storage/replica-db';
import { replicaState, type RecoveryPlan } from '../storage/replica-state';
import { changedColumns, pickValues, presentColumns } from '../storage/row-values';
import { applyServerRows } from './apply-server-rows';
import { recoveredEntry } from './recovered-entry';
import type { SyncContext } from './sync-context';

type Row = Record<string, unknown>;

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
export async function shareHistory(tx: Tables, recovery: Recovery, shared: number): Promise<void> {
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
  for (const change of known) recovery.seen.add(rowKey(change.table, change.rowguid));
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
      entries.push({
        ...recoveredEntry(change, op, columns, base, baseGeneration, generation),
        ...(blind && { blind }),
      });
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
    } else if (recovery.lostWrites && deletedKeys.has(rowKey(change.table, change.rowguid))) {
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

/** The keys of the changes whose rows this replica deleted, the deletes acknowledged. */
async function deletedHere(tx: Tables, changes: readonly FromServerChange[]): Promise<Set<string>> {
  const keys = changes.map((change): [string, string] => [change.table, change.rowguid]);
  const found = await tx.table<DeletedRecord>('_deleted').bulkGet(keys);
  return new Set(
    found.filter((record) => record !== undefined).map((record) => rowKey(record!.table, record!.rowguid)),
  );
}

/** The local rows of the changes, in their order (undefined where none). */
async function localRows(tx: Tables, changes: readonly FromServerChange[]): Promise<(Row | undefined)[]> {
  const rows = new Map<string, Row | undefined>();
  for (const table of new Set(changes.map((change) => change.table))) {
    const rowguids = changes.filter((change) => change.table === table).map((change) => change.rowguid);
    const found = (await tx.table(table).bulkGet(rowguids)) as (Row | undefined)[];
    rowguids.forEach((rowguid, i) => rows.set(rowKey(table, rowguid), found[i]));
  }
  return changes.map((change) => rows.get(rowKey(change.table, change.rowguid)));
}
