import type { Table } from 'dexie';
import { tableOf, type RowValues, type Schema } from '@concord/shared';
import type { Tables } from '../storage/replica-db';
import { groupBy } from '../storage/group-by';

/** A server version of a row: its values, or null for a tombstone. Applying it takes `values` over as the row. */
export interface ServerRow {
  table: string;
  rowguid: string;
  values: RowValues | null | undefined;
}

/** Lays the server's authoritative versions over the local rows (a tombstone deletes the row), in bulk per table. */
export async function applyServerRows(tx: Tables, schema: Schema, rows: readonly ServerRow[]): Promise<void> {
  for (const [name, group] of groupBy(rows, (row) => row.table)) {
    const table = tableOf(schema, name);
    if (!table) continue;
    const target: Table = tx.table(name);
    const deletes: string[] = [];
    const puts: RowValues[] = [];
    for (const { rowguid, values } of group) {
      if (values == null) {
        deletes.push(rowguid);
        continue;
      }
      // The values come from a parsed server answer and belong to nothing else: keying them in
      // place saves copying every downloaded row.
      values[table.key] = rowguid;
      puts.push(values);
    }
    if (deletes.length) await target.bulkDelete(deletes);
    if (puts.length) await target.bulkPut(puts);
  }
}
