import type { Store } from '../storage/store';
import type { Partitions } from './create-partitions';

/** Rows stamped per transaction: a restamp never holds pushes back for long. */
const BATCH = 1_000;
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * Stamps every row for the current partition filters when the store's rows were stamped for
 * others (filters added, changed or removed since the store last ran): parents first, a batch
 * per transaction, each row read again inside it so a concurrent write is never overwritten.
 * Generations do not change: replicas learn of the new filters from their partition
 * fingerprint and download their partition afresh. Idempotent; an interrupted run starts again.
 */
export async function restampRows(store: Store, partitions: Partitions): Promise<void> {
  if ((await store.meta()).partitions === partitions.filtersPrint) return;
  for (let depth = 0; depth <= partitions.depth; depth++) {
    for (let after = 0, more = true; more;) {
      const page = await store.changesSince({ after, limit: BATCH, maxBytes: MAX_BYTES });
      const keys = page.rows.filter((row) => partitions.depthOf(row.table) === depth);
      if (keys.length > 0) {
        await store.transaction(async (tx) => {
          const rows = [...(await tx.getRows(keys)).values()];
          for (const row of rows) [row.partition, row.parent] = [undefined, undefined];
          await partitions.stamp(tx, rows, new Map());
          await tx.writeRows(rows);
        });
      }
      [after, more] = [page.cursor, page.more];
    }
  }
  await store.transaction((tx) => tx.setPartitions(partitions.filtersPrint));
}
