import { outbox, rowKey, type DeletedRecord, type OutboxEntry, type Tables } from '../storage/replica-db';
import { replicaState } from '../storage/replica-state';
import { presentColumns } from '../storage/row-values';
import type { Recovery } from './recover-page';
import { recoveredEntry } from './recovered-entry';
import type { SyncContext } from './sync-context';

type Row = Record<string, unknown>;

/**
 * Ends a recovery, in the last page's transaction, with the local rows the server has no version
 * of at all. With a pending change, when this replica lost changes of its own (the row may be
 * one), or when the two histories share nothing (a replaced store: the replicas hold the only
 * copies), such a row goes up as an insert; otherwise it is one this replica downloaded from a
 * commit the store lost — its writer, which re-uploads what it still holds, may have deleted it
 * since — so it goes, as the store has it. Rows of upload-only tables, which never come down, go
 * up as inserts (those the store holds already are no conflict). A realignment (a changed
 * partition, an expired replica) keeps its pending changes as they are; one of some tables only
 * (`tables`) leaves the others alone. Then the plan is cleared.
 */
export async function finishRecovery(ctx: SyncContext, tx: Tables, recovery: Recovery): Promise<void> {
  const state = replicaState(tx);
  const generation = (await state.get('localGeneration')) + 1;
  const entries: OutboxEntry[] = [];
  const tables = Object.values(ctx.schema.tables).filter(({ name }) => recovery.tables?.includes(name) ?? true);
  for (const table of tables) {
    const rowguids = (await tx.table(table.name).toCollection().primaryKeys()) as string[];
    const lost = rowguids.filter((rowguid) => !recovery.seen.has(rowKey(table.name, rowguid)));
    const pending = await outbox(tx).bulkGet(lost.map((rowguid): [string, string] => [table.name, rowguid]));
    const rows = (await tx.table(table.name).bulkGet(lost)) as Row[];
    const downloaded = table.direction !== 'upload-only' && !recovery.lostWrites && !recovery.forgotten;
    const gone = lost.filter((_, i) => downloaded && !pending[i]);
    if (gone.length > 0) await tx.table(table.name).bulkDelete(gone);
    lost.forEach((rowguid, i) => {
      const entry = pending[i];
      if (entry?.op === 'delete' || entry?.inserted || (downloaded && !entry)) return;
      // A realignment lost nothing: a pending change goes up as it was made, over the version it
      // was made over, so the server judges it (a delete it missed, a partition it left).
      if (entry && recovery.realign) return;
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
  const unseen = records.filter(({ table, rowguid }) => !recovery.seen.has(rowKey(table, rowguid)));
  const keys = unseen.map(({ table, rowguid }): [string, string] => [table, rowguid]);
  const pending = await outbox(tx).bulkGet(keys);
  const entries: OutboxEntry[] = [];
  for (const [i, { table, rowguid }] of unseen.entries()) {
    if (pending[i] || (await tx.table(table).get(rowguid)) !== undefined) continue;
    entries.push({ ...recoveredEntry({ table, rowguid }, 'delete', [], {}, recovery.known, generation), blind: true });
  }
  return entries;
}
