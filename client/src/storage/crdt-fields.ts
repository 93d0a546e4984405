import * as Y from 'yjs';
import { CRDT_TEXT, ConcordError, tableOf, type Schema } from '@concord/shared';
import { crdtFields, outbox, type CrdtRecord, type OutboxEntry, type Tables } from './replica-db';
import { fromBase64 } from './base64';
import { replicaState } from './replica-state';

type Row = Record<string, unknown>;

/** An update merged into a CRDT field, for the documents open on it. */
export interface CrdtUpdate {
  table: string;
  rowguid: string;
  column: string;
  update: Uint8Array;
}

/** The text a field's state holds. */
export function textOf(state: Uint8Array): string {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, state);
    return doc.getText(CRDT_TEXT).toString();
  } finally {
    doc.destroy();
  }
}

/**
 * Merges an update into a field's local state and sets the row's text from it, in `tx`. The
 * state keeps this replica's unsent edits, so the text holds them whatever the server sent.
 */
async function mergeField(
  tx: Tables,
  table: string,
  rowguid: string,
  column: string,
  update: Uint8Array,
  fromServer: boolean,
) {
  const fields = crdtFields(tx);
  const stored = await fields.get([table, rowguid, column]);
  const state = stored ? Y.mergeUpdates([stored.state, update]) : update;
  // What the server sent, it holds; a local edit it does not hold yet.
  const acked = fromServer ? withUpdate(stored?.acked, update) : stored?.acked;
  await fields.put({ table, rowguid, column, state, ...(acked && { acked }) });
  const row = (await tx.table(table).get(rowguid)) as Row | undefined;
  const text = textOf(state);
  if (row && row[column] !== text) await tx.table(table).put({ ...row, [column]: text });
  return row;
}

/**
 * Takes in what the server sent of rows' CRDT columns (a push's answers, a download's rows):
 * merged into the local fields, whose text the rows then hold. Returns the updates, for open
 * documents once the transaction commits.
 */
export async function takeCrdtPayloads(
  tx: Tables,
  schema: Schema,
  rows: readonly { table: string; rowguid: string; crdt?: Record<string, string>; deleted?: boolean }[],
): Promise<CrdtUpdate[]> {
  const updates: CrdtUpdate[] = [];
  for (const { table, rowguid, crdt, deleted } of rows) {
    const def = tableOf(schema, table);
    if (!def || def.crdt.length === 0) continue;
    // A deleted row's documents go with it.
    if (deleted)
      await crdtFields(tx).bulkDelete(def.crdt.map((column): [string, string, string] => [table, rowguid, column]));
    if (!crdt || deleted) continue;
    for (const column of def.crdt) {
      if (!Object.hasOwn(crdt, column)) continue;
      const update = fromBase64(crdt[column]!);
      await mergeField(tx, table, rowguid, column, update, true);
      updates.push({ table, rowguid, column, update });
    }
  }
  return updates;
}

/**
 * Persists a local edit of a CRDT field, in one transaction: the field's state takes it, the row
 * its text, and the outbox an entry for the column (made, or extended and moved to a new local
 * generation), so no edit lives in the document alone once this commits.
 */
export async function persistLocalEdit(tx: Tables, edit: CrdtUpdate): Promise<void> {
  const { table, rowguid, column } = edit;
  const before = ((await tx.table(table).get(rowguid)) as Row | undefined)?.[column];
  if (!(await mergeField(tx, table, rowguid, column, edit.update, false))) {
    throw new ConcordError('not_found', `no row ${table}/${rowguid} to edit: add the row first`);
  }
  const state = replicaState(tx);
  const localGeneration = (await state.get('localGeneration')) + 1;
  const entry: OutboxEntry = (await outbox(tx).get([table, rowguid])) ?? {
    table,
    rowguid,
    op: 'upsert',
    columns: [],
    base: {},
    baseGeneration: await state.get('receivedGeneration'),
    localGeneration,
    inserted: false,
  };
  if (!entry.columns.includes(column)) {
    entry.columns = [...entry.columns, column];
    if (!Object.hasOwn(entry.base, column)) entry.base = { ...entry.base, [column]: (before as string) ?? null };
  }
  const empty = (await outbox(tx).count()) === 0;
  await outbox(tx).put({ ...entry, localGeneration });
  await state.set({ localGeneration, ...(empty && { pendingSince: new Date().toISOString() }) });
}

/** A state vector with an update's clocks added (each client's highest). */
function withUpdate(vector: Uint8Array | undefined, update: Uint8Array): Uint8Array {
  const clocks = vector ? Y.decodeStateVector(vector) : new Map<number, number>();
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(update))) {
    clocks.set(client, Math.max(clocks.get(client) ?? 0, clock));
  }
  return Y.encodeStateVector(clocks);
}

/** What an upload sends of a field: what the server is not known to hold, or the whole state. */
export function unsent(field: CrdtRecord): Uint8Array {
  return field.acked ? Y.diffUpdate(field.state, field.acked) : field.state;
}

/**
 * After a push's answer: a field whose update the server took now counts it as held; one it
 * refused (an update over edits it does not have, after a restore) sends its whole state next.
 */
export async function noteSent(
  tx: Tables,
  change: { table: string; rowguid: string; crdt?: Record<string, string> },
  accepted: boolean,
): Promise<void> {
  for (const [column, sent] of Object.entries(change.crdt ?? {})) {
    const field = await crdtFields(tx).get([change.table, change.rowguid, column]);
    if (!field) continue;
    if (accepted) field.acked = withUpdate(field.acked, fromBase64(sent));
    else delete field.acked;
    await crdtFields(tx).put(field);
  }
}

/** Forgets what the server was known to hold of every field (it may have lost it): uploads send whole states. */
export async function forgetAcked(tx: Tables): Promise<void> {
  await crdtFields(tx)
    .toCollection()
    .modify((field) => void delete field.acked);
}
