import type { TableDef } from '@concord/shared';
import type { OutboxEntry } from '../storage/replica-db';
import { changedColumns, pickValues, presentColumns } from '../storage/row-values';

type Row = Record<string, unknown>;

export interface LocalWrite {
  rowguid: string;
  /** The row before the write; undefined if it did not exist. */
  before: Row | undefined;
  /** The row after the write; undefined for a delete. */
  after: Row | undefined;
  /** The pending outbox entry, if any. */
  entry: OutboxEntry | undefined;
  /**
   * The replica's download cursor. Every server change up to it has been applied, except to
   * rows with a pending entry (which keep their own base) and this replica's own writes (which
   * never conflict with it): so it is a sound base generation for a row edited without one.
   */
  receivedGeneration: number;
  localGeneration: number;
  /** Whether a pending insert may vanish without trace (no upload of it can be in flight). */
  mayCancel: boolean;
}

/**
 * The outbox entry after one more local write: a new entry, the pending one coalesced, `null`
 * when an unsent insert is deleted again (nothing to upload), or `undefined` when the write
 * changed nothing. Base values are always those before the first unsent edit.
 */
export function coalesce(table: TableDef, write: LocalWrite): OutboxEntry | null | undefined {
  const { before, after, entry, localGeneration } = write;
  if (!before && !after) return entry;
  if (!entry) {
    const { rowguid, receivedGeneration } = write;
    // A new row goes up from base 0, so the same rowguid created elsewhere is an insert–insert conflict.
    if (!before)
      return outboxEntry(table.name, rowguid, 'upsert', presentColumns(table, after!), {}, 0, localGeneration, true);
    // A delete keeps the whole row as base (null where it has no value): the server compares it,
    // and it serves if the row is written again before upload.
    if (!after) {
      const base = pickValues(before, table.columnNames);
      return outboxEntry(table.name, rowguid, 'delete', [], base, receivedGeneration, localGeneration, false);
    }
    const columns = changedColumns(table, before, after);
    if (columns.length === 0) return undefined;
    const base = pickValues(before, columns);
    return outboxEntry(table.name, rowguid, 'upsert', columns, base, receivedGeneration, localGeneration, false);
  }
  if (!after) {
    if (entry.inserted && write.mayCancel) return null;
    // The whole row the delete removes, as it was before the first unsent edit, so that the
    // server can tell whether the delete was made over the latest version of every column.
    const deleted: OutboxEntry = {
      ...entry,
      op: 'delete',
      localGeneration,
      base: { ...pickValues(before, table.columnNames), ...entry.base },
    };
    delete deleted.replace; // a delete replaces nothing
    return deleted;
  }
  // A row written again after a pending delete is a new row: it replaces the old one wholly, and
  // goes up as the columns it has, so every replica gets the shape it would had the delete synced first.
  if (!before) return { ...entry, op: 'upsert', replace: true, columns: presentColumns(table, after), localGeneration };
  const fresh = changedColumns(table, before, after);
  if (fresh.length === 0) return undefined;
  const added = fresh.filter((column) => !entry.columns.includes(column));
  return {
    ...entry,
    op: 'upsert',
    columns: [...entry.columns, ...added],
    base: { ...pickValues(before, added), ...entry.base },
    localGeneration,
    // An insert edited while an upload is in flight may already be at the server: from now on
    // its changed columns go up as they are, nulls included, not only the columns the row has.
    inserted: entry.inserted && write.mayCancel,
  };
}

/** A new entry, always built with the same shape: objects made by spreading are slow to build and to clone into IndexedDB. */
function outboxEntry(
  table: string,
  rowguid: string,
  op: OutboxEntry['op'],
  columns: string[],
  base: OutboxEntry['base'],
  baseGeneration: number,
  localGeneration: number,
  inserted: boolean,
): OutboxEntry {
  return { table, rowguid, op, columns, base, baseGeneration, localGeneration, inserted };
}
