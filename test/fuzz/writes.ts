import type { Dexie } from 'dexie';
import type { ColumnType, JsonValue, Schema } from '@concord/shared';
import { COLUMNS, rowguidOf, type Size, type TableName, type Write } from './ops';

/**
 * One committed local write, as the model remembers it: who wrote which values to which row,
 * and when (`id` is the global time order: later writes have larger ids).
 */
export interface WriteRecord {
  id: number;
  replica: number;
  table: TableName;
  rowguid: string;
  op: 'upsert' | 'delete';
  /** The columns the write set; a put or insert sets every column (`null` where the row has none). */
  values: Record<string, JsonValue>;
  /** The row did not exist in the replica before this write. */
  created: boolean;
  /** For a delete: the row the replica deleted. */
  deleted?: Record<string, JsonValue>;
  /**
   * Made by the harness in the final heal, to edit a change too large for any push smaller (it
   * was written before the replica learnt the server's limit). It overwrites only huge values.
   */
  heal?: boolean;
}

type Row = Record<string, unknown>;

/**
 * A value no other write uses (`n` is unique per run), so that a value found in the final state
 * or in the conflict log names exactly one write. Booleans cannot be unique; the oracle skips them.
 * A string is padded to `length` characters (a large or huge write).
 */
export function uniqueValue(type: ColumnType, n: number, salt: number, length = 0): JsonValue {
  const k = salt * 100_000 + n;
  switch (type) {
    case 'string':
      return `w${n}`.padEnd(length, '.');
    case 'integer':
      return k;
    case 'number':
      return k + 0.5;
    case 'boolean':
      return (n + salt) % 2 === 0;
    case 'date':
      return new Date(Date.UTC(2024, 0, 1) + k * 60_000).toISOString();
    case 'json':
      return { w: n, salt };
  }
}

export interface WriteContext {
  schema: Schema;
  replica: number;
  /** The next unique value number. */
  next(): number;
  /** How long a string of a write of this size is (0: as short as it gets). */
  stringLength(size: Size, salt: number): number;
}

/**
 * String lengths for a run whose server accepts bodies of `maxBodyBytes` (0: the default 8 MiB,
 * where a huge write is written as a large one). A large string takes at most a seventh of the
 * limit, so that any change — a replace carries two strings and the two it replaces — fits a
 * push with room to spare; a huge one is longer than the limit itself.
 */
export function stringLengths(maxBodyBytes: number): WriteContext['stringLength'] {
  const large = Math.floor((maxBodyBytes || 21_000) / 7);
  return (size, salt) => {
    if (size === 'small') return 0;
    if (size === 'huge' && maxBodyBytes > 0) return maxBodyBytes + 64 * (salt % 16);
    return Math.floor(large * (0.5 + (salt % 6) / 10));
  };
}

/**
 * Runs `writes` in one read-write transaction of the replica's database and returns what was
 * written (ids still 0: the caller stamps them once the transaction has committed). An update or
 * delete takes the `row`-th of the rows the replica has (none: left out); an insert of a row
 * that exists is left out, as an app would.
 */
export async function performWrites(db: Dexie, writes: readonly Write[], ctx: WriteContext): Promise<WriteRecord[]> {
  const records: WriteRecord[] = [];
  const tables = [...new Set(writes.map((write) => write.table))];
  await db.transaction('rw', tables, async (tx) => {
    for (const write of writes) {
      const table = tx.table(write.table);
      const record = (rowguid: string, op: WriteRecord['op'], values: Row, created: boolean, deleted?: Row) =>
        records.push({
          id: 0,
          replica: ctx.replica,
          table: write.table,
          rowguid,
          op,
          values: values as Record<string, JsonValue>,
          created,
          ...(deleted ? { deleted: deleted as Record<string, JsonValue> } : {}),
        });
      if (write.kind === 'bulk') {
        const all = write.rows.map((row) => rowguidOf(write.table, row));
        const befores = (await table.bulkGet(all)) as (Row | undefined)[];
        const rows = all.map((rowguid) => ({
          id: rowguid,
          ...makeValues(ctx, write.table, write.columns, write.salt, write.size),
        }));
        await table.bulkPut(rows);
        rows.forEach(({ id, ...values }, i) => record(id, 'upsert', wholeRow(write.table, values), !befores[i]));
        continue;
      }
      // An update or delete picks among the rows the replica has, so that it always applies.
      const existing =
        write.kind === 'update' || write.kind === 'delete'
          ? ((await table.toCollection().primaryKeys()) as string[])
          : [];
      if ((write.kind === 'update' || write.kind === 'delete') && existing.length === 0) continue;
      const rowguid =
        existing.length > 0 ? existing.sort()[write.row % existing.length]! : rowguidOf(write.table, write.row);
      const before = (await table.get(rowguid)) as Row | undefined;
      if (write.kind === 'delete') {
        if (!before) continue;
        await table.delete(rowguid);
        record(rowguid, 'delete', {}, false, before);
      } else if (write.kind === 'update') {
        if (!before) continue;
        const values = makeValues(ctx, write.table, write.columns, write.salt, write.size);
        await table.update(rowguid, values);
        record(rowguid, 'upsert', values, false);
      } else {
        if (write.kind === 'insert' && before) continue;
        const values = makeValues(ctx, write.table, write.columns, write.salt, write.size);
        await (write.kind === 'insert' ? table.add({ id: rowguid, ...values }) : table.put({ id: rowguid, ...values }));
        record(rowguid, 'upsert', wholeRow(write.table, values), !before);
      }
    }
  });
  return records;
}

function makeValues(ctx: WriteContext, table: TableName, columns: readonly string[], salt: number, size: Size): Row {
  const types = ctx.schema.tables[table]!.columns;
  const length = ctx.stringLength(size, salt);
  return Object.fromEntries(columns.map((column) => [column, uniqueValue(types[column]!, ctx.next(), salt, length)]));
}

/** A put replaces the row: every column it does not give is cleared. */
function wholeRow(table: TableName, values: Row): Row {
  return Object.fromEntries(COLUMNS[table].map((column) => [column, values[column] ?? null]));
}
