import type { Dexie } from 'dexie';
import type { RowValues } from '@concord/shared';

/** A database or a transaction: anything tables can be taken from. */
export type Tables = Pick<Dexie, 'table'>;

/**
 * One outbox entry: at most one per (table, rowguid). Repeated local edits before upload
 * are coalesced into it; `base` keeps the values of `columns` before the first unsent edit.
 */
export interface OutboxEntry {
  table: string;
  rowguid: string;
  op: 'upsert' | 'delete';
  /** Changed columns (for an insert, every column the row was given). */
  columns: string[];
  base: RowValues;
  /** The server generation of the row this replica last saw; 0 if never. */
  baseGeneration: number;
  /** The latest local generation that touched the row. */
  localGeneration: number;
  /** True while the row exists only on this replica: an insert the server has not acknowledged. */
  inserted: boolean;
  /**
   * True for a row written again while its delete was pending: it replaces the old row wholly, so
   * it goes up as the columns it has, and the server keeps exactly those (no nulls for the rest).
   */
  replace?: boolean;
  /**
   * True for a change a recovering replica made without knowing which version the server holds:
   * the server compares it with whatever it holds (see `fromReplicaChange.blind`).
   */
  blind?: boolean;
}

/**
 * A delete of this replica that the server acknowledged, kept so that a recovery from a store
 * restored to before it can send it again (`_deleted`).
 */
export interface DeletedRecord {
  table: string;
  rowguid: string;
}

/**
 * A CRDT column of one row as this replica holds it: the Yjs state of its document, its own
 * unsent edits included (`_crdt`). The row holds the document's text.
 */
export interface CrdtRecord {
  table: string;
  rowguid: string;
  column: string;
  state: Uint8Array;
  /**
   * The state vector of what the server is known to hold of the field (what it sent, and what it
   * took from this replica): an upload sends only the rest. `true`: all of `state` (a field as
   * downloaded, its vector computed when first needed). Absent: send the whole state.
   */
  acked?: Uint8Array | true;
}

/** The CRDT fields (`_crdt`), keyed by `[table, rowguid, column]`. */
export const crdtFields = (db: Tables) => db.table<CrdtRecord, [string, string, string]>('_crdt');

/** The outbox (`_changes`), keyed by `[table, rowguid]`, in the given transaction (or the database's own). */
export const outbox = (db: Tables) => db.table<OutboxEntry, [string, string]>('_changes');

/** One string naming a row of a table, for sets and maps of rows. */
export const rowKey = (table: string, rowguid: string) => `${table}\u0000${rowguid}`;

/** Tables the tracking middleware writes in the same transaction as every app write. */
export const TRACKING_TABLES = ['_changes', '_state'] as const;

export const SYSTEM_STORES = {
  _changes: '[table+rowguid], localGeneration',
  _state: 'key',
  _conflicts: 'id, status, table',
  _deleted: '[table+rowguid]',
  _crdt: '[table+rowguid+column]',
};

/** Every system table of a replica's database. */
export const SYSTEM_TABLES = Object.keys(SYSTEM_STORES) as (keyof typeof SYSTEM_STORES)[];
