import type { OutboxEntry } from '../storage/replica-db';
import { replicaState } from '../storage/replica-state';
import { presentColumns } from '../tracking/row-values';
import { outbox, type SyncContext } from './sync-context';

/**
 * Recovers from a server that no longer knows this replica (store restored or replaced):
 * every local row is queued for upload again as an insert, pending edits are kept, and the
 * replica registers anew and downloads from the start. Nothing local is lost.
 */
export async function reinitialize(ctx: SyncContext): Promise<void> {
  await ctx.syncTransaction(async (tx) => {
    const state = replicaState(tx);
    let generation = (await state.get('localGeneration', 0)) + 1;
    let used = 0;
    for (const table of Object.values(ctx.schema.tables)) {
      const rows: Record<string, unknown>[] = await tx.table(table.name).toArray();
      const pending = await outbox(tx).bulkGet(rows.map((row) => [table.name, row[table.key] as string]));
      const entries: OutboxEntry[] = rows.map((row, i) => {
        if (used++ === ctx.maxUploadChanges) [generation, used] = [generation + 1, 1];
        const entry = pending[i];
        const rowguid = row[table.key] as string;
        return entry
          ? { ...entry, baseGeneration: 0, localGeneration: generation }
          : {
              table: table.name,
              rowguid,
              op: 'upsert',
              columns: presentColumns(table, row),
              base: {},
              baseGeneration: 0,
              localGeneration: generation,
              inserted: true,
            };
      });
      await outbox(tx).bulkPut(entries);
    }
    await outbox(tx).where('localGeneration').below(generation).modify({ baseGeneration: 0 });
    await state.set({
      localGeneration: generation,
      replicaId: null,
      secret: null,
      epoch: null,
      sentGeneration: 0,
      receivedGeneration: 0,
      receivedCommit: '',
      inFlight: null,
      inFlightBatch: null,
    });
  });
}
