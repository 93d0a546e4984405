import { pickColumns, type FromReplicaChangeInput, type ServerLimits, type TableDef } from '@concord/shared';
import type { OutboxEntry } from './replica-db';
import { pickValues, presentColumns } from './row-values';

type Row = Record<string, unknown>;

/** Room kept in a push body for everything but its changes (protocol, ids, secret, generations). */
const PUSH_ENVELOPE_BYTES = 1024;

/**
 * An outbox entry as sent, with the row as it is now. Fields at their protocol default (see
 * `fromReplicaChange`) are left out: `to` is the push's last local generation.
 */
export function wireChange(
  table: TableDef,
  entry: OutboxEntry,
  row: Row | undefined,
  to: number,
): FromReplicaChangeInput {
  const { rowguid, localGeneration, baseGeneration } = entry;
  const change: FromReplicaChangeInput = { table: table.name, rowguid };
  if (localGeneration !== to) change.localGeneration = localGeneration;
  if (baseGeneration !== 0) change.baseGeneration = baseGeneration;
  if (entry.blind) change.blind = true;
  if (entry.op === 'delete' || !row) {
    change.op = 'delete';
    // The values the delete was made over, so that the server sees whether they were the latest.
    if (Object.keys(entry.base).length > 0) change.base = entry.base;
    return change;
  }
  const whole = entry.inserted || entry.replace;
  const columns = whole ? presentColumns(table, row) : entry.columns;
  change.values = pickValues(row, columns);
  if (entry.replace) {
    // The row it replaces, as the delete saw it: the server compares it like a delete's.
    change.replace = true;
    if (Object.keys(entry.base).length > 0) change.base = entry.base;
    return change;
  }
  const base = pickColumns(entry.base, columns);
  if (Object.keys(base).length > 0) change.base = base;
  return change;
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
