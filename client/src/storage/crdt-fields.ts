import * as Y from 'yjs';
import { CRDT_TEXT, ConcordError, tableOf, type Schema } from '@concord/shared';
import { crdtFields, outbox, type OutboxEntry, type Tables } from './replica-db';
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
async function mergeField(tx: Tables, table: string, rowguid: string, column: string, update: Uint8Array) {
  const fields = crdtFields(tx);
  const stored = await fields.get([table, rowguid, column]);
  const state = stored ? Y.mergeUpdates([stored.state, update]) : update;
  await fields.put({ table, rowguid, column, state });
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
      await mergeField(tx, table, rowguid, column, update);
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
  if (!(await mergeField(tx, table, rowguid, column, edit.update))) {
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
