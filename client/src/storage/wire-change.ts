import {
  pickColumns,
  type FromReplicaChangeInput,
  type RowValues,
  type ServerLimits,
  type TableDef,
} from '@concord/shared';
import type { OutboxEntry } from './replica-db';
import { pickValues, presentColumns } from './row-values';

type Row = Record<string, unknown>;

/** Room kept in a push body for everything but its changes (protocol, ids, secret, generations). */
const PUSH_ENVELOPE_BYTES = 1024;

/**
 * An outbox entry as sent, with the row as it is now. Fields at their protocol default (see
 * `fromReplicaChange`) are left out: `to` is the push's last local generation. A CRDT column
 * goes up as its document's whole local state (`crdt`, base64, from `_crdt`), never as its text.
 */
export function wireChange(
  table: TableDef,
  entry: OutboxEntry,
  row: Row | undefined,
  to: number,
  crdt: Readonly<Record<string, string>> = {},
): FromReplicaChangeInput {
  const { rowguid, localGeneration, baseGeneration } = entry;
  const change: FromReplicaChangeInput = { table: table.name, rowguid };
  if (localGeneration !== to) change.localGeneration = localGeneration;
  if (baseGeneration !== 0) change.baseGeneration = baseGeneration;
  if (entry.blind) change.blind = true;
  if (entry.op === 'delete' || !row) {
    change.op = 'delete';
    // The values the delete was made over, so that the server sees whether they were the latest.
    const base = withoutCrdt(table, entry.base);
    if (Object.keys(base).length > 0) change.base = base;
    return change;
  }
  const whole = entry.inserted || entry.replace;
  const edited = whole ? presentColumns(table, row) : entry.columns;
  const columns = edited.filter((column) => !table.crdt.includes(column));
  const documents = edited.filter((column) => table.crdt.includes(column) && Object.hasOwn(crdt, column));
  if (documents.length > 0) change.crdt = Object.fromEntries(documents.map((column) => [column, crdt[column]!]));
  change.values = pickValues(row, columns);
  if (entry.replace) {
    // The row it replaces, as the delete saw it: the server compares it like a delete's.
    change.replace = true;
    const base = withoutCrdt(table, entry.base);
    if (Object.keys(base).length > 0) change.base = base;
    return change;
  }
  const base = pickColumns(entry.base, columns);
  if (Object.keys(base).length > 0) change.base = base;
  return change;
}

/** Values without the table's CRDT columns, whose text the server derives from their documents. */
function withoutCrdt(table: TableDef, values: RowValues): RowValues {
  if (!table.crdt.some((column) => Object.hasOwn(values, column))) return values;
  return Object.fromEntries(Object.entries(values).filter(([column]) => !table.crdt.includes(column)));
}

// eslint-disable-next-line no-control-regex -- the range is every ASCII character
const NOT_ASCII = /[^\x00-\x7f]/;

/** The bytes a change takes in a push body: its UTF-8 JSON and the comma after it. */
export function changeBytes(change: FromReplicaChangeInput): number {
  const json = JSON.stringify(change);
  return (NOT_ASCII.test(json) ? new TextEncoder().encode(json).length : json.length) + 1;
}

/**
 * A cheap upper bound of the bytes a row's values take as JSON, without serializing them: a
 * string's characters take at most 6 bytes each (escaped), a number at most 24. Infinity for a
 * nested JSON value, which only serializing can measure.
 */
export function roughBytes(values: Readonly<Record<string, unknown>>): number {
  let bytes = 2;
  for (const key of Object.keys(values)) {
    const value = values[key];
    bytes += key.length * 6 + 4;
    if (typeof value === 'string') bytes += value.length * 6 + 2;
    else if (typeof value === 'number') bytes += 24;
    else if (typeof value === 'boolean' || value == null) bytes += 5;
    else return Number.POSITIVE_INFINITY;
  }
  return bytes;
}

/** The most bytes one change may take so that a push holding it alone fits the server's body limit. */
export function maxChangeBytes(limits: ServerLimits): number {
  return limits.maxBodyBytes - PUSH_ENVELOPE_BYTES;
}
