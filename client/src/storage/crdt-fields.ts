import * as Y from 'yjs';
import { CRDT_TEXT, ConcordError, tableOf, type Schema } from '@concord/shared';
import { crdtFields, outbox, type CrdtRecord, type OutboxEntry, type Tables } from './replica-db';
import { fromBase64 } from './base64';
import { groupBy } from './group-by';
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
 * Merges a local edit into a field's local state and sets the row's text from it, in `tx` (the
 * server does not hold the edit yet: what it is known to hold stays as it was).
 */
async function mergeField(tx: Tables, table: string, rowguid: string, column: string, update: Uint8Array) {
  const fields = crdtFields(tx);
  const stored = await fields.get([table, rowguid, column]);
  const state = stored ? Y.mergeUpdates([stored.state, update]) : update;
  const acked = stored && heldVector(stored);
  await fields.put({ table, rowguid, column, state, ...(acked && { acked }) });
  const row = (await tx.table(table).get(rowguid)) as Row | undefined;
  const text = textOf(state);
  if (row && row[column] !== text) await tx.table(table).put({ ...row, [column]: text });
  return row;
}

/**
 * Takes in what the server sent of rows' CRDT columns (a push's answers, a download's rows):
 * merged into the local fields, whose text the rows then hold. Returns the updates, for open
 * documents once the transaction commits. Read and written in bulk: a field this replica did not
 * hold yet takes the server's state as it is, and its row already holds the server's text.
 */
export async function takeCrdtPayloads(
  tx: Tables,
  schema: Schema,
  rows: readonly { table: string; rowguid: string; crdt?: Record<string, string>; deleted?: boolean }[],
): Promise<CrdtUpdate[]> {
  const updates: CrdtUpdate[] = [];
  const gone: [string, string, string][] = [];
  for (const { table, rowguid, crdt, deleted } of rows) {
    const columns = tableOf(schema, table)?.crdt ?? [];
    // A deleted row's documents go with it.
    if (deleted) gone.push(...columns.map((column): [string, string, string] => [table, rowguid, column]));
    else if (crdt) {
      for (const column of columns) {
        if (Object.hasOwn(crdt, column)) updates.push({ table, rowguid, column, update: fromBase64(crdt[column]!) });
      }
    }
  }
  if (gone.length > 0) await crdtFields(tx).bulkDelete(gone);
  if (updates.length === 0) return updates;
  const stored = await crdtFields(tx).bulkGet(updates.map(({ table, rowguid, column }) => [table, rowguid, column]));
  const fields: CrdtRecord[] = [];
  const texts: { table: string; rowguid: string; column: string; text: string }[] = [];
  updates.forEach(({ table, rowguid, column, update }, i) => {
    const held = stored[i];
    // What the server sent, it holds: a field it sent whole is all the server's.
    if (!held) return fields.push({ table, rowguid, column, state: update, acked: true });
    const state = Y.mergeUpdates([held.state, update]);
    fields.push({ ...held, state, acked: withUpdate(heldVector(held), update) });
    texts.push({ table, rowguid, column, text: textOf(state) });
  });
  await crdtFields(tx).bulkPut(fields);
  for (const [table, group] of groupBy(texts, ({ table }) => table)) {
    const found = (await tx.table(table).bulkGet(group.map(({ rowguid }) => rowguid))) as (Row | undefined)[];
    const changed = group.flatMap(({ column, text }, i) => {
      const row = found[i];
      return row && row[column] !== text ? [Object.assign(row, { [column]: text })] : [];
    });
    if (changed.length > 0) await tx.table(table).bulkPut(changed);
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
  if (!(await mergeField(tx, table, rowguid, column, edit.update))) {
    throw new ConcordError('not_found', `no row ${table}/${rowguid} to edit: add the row first`);
  }
  await markPending(tx, table, rowguid, column, before);
}

/**
 * Puts a CRDT column of a row in the outbox (an entry made, or extended with it), at a new local
 * generation: its document goes up with the next upload.
 */
async function markPending(tx: Tables, table: string, rowguid: string, column: string, before: unknown) {
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

/** The state vector of what the server holds of a field, as far as known. */
function heldVector(field: CrdtRecord): Uint8Array | undefined {
  return field.acked === true ? Y.encodeStateVectorFromUpdate(field.state) : field.acked;
}

/** What an upload sends of a field: what the server is not known to hold, or the whole state. */
export function unsent(field: CrdtRecord): Uint8Array {
  const held = heldVector(field);
  return held ? Y.diffUpdate(field.state, held) : field.state;
}

/**
 * After a push's answer, in the transaction that settles it: a field whose update the server took
 * now counts it as held; one whose part it refused (an update over edits it does not have, after
 * a restore) goes up again, whole, with the next upload. A whole state refused (too large) is not
 * sent again by itself.
 */
export async function noteSent(
  tx: Tables,
  change: { table: string; rowguid: string; crdt?: Record<string, string> },
  accepted: boolean,
): Promise<void> {
  for (const [column, sent] of Object.entries(change.crdt ?? {})) {
    const field = await crdtFields(tx).get([change.table, change.rowguid, column]);
    if (!field) continue;
    if (accepted) field.acked = withUpdate(heldVector(field), fromBase64(sent));
    else if (field.acked) {
      // A part refused: the server lacks what it builds on. The whole state goes up next round.
      delete field.acked;
      await markPending(tx, change.table, change.rowguid, column, undefined);
    }
    await crdtFields(tx).put(field);
  }
}

/** Forgets what the server was known to hold of every field (it may have lost it): uploads send whole states. */
export async function forgetAcked(tx: Tables): Promise<void> {
  await crdtFields(tx)
    .toCollection()
    .modify((field) => void delete field.acked);
}
