import * as Y from 'yjs';
import { ConcordError, tableOf, type Schema } from '@concord/shared';
import { persistLocalEdit, type CrdtUpdate } from '../storage/crdt-fields';
import { crdtFields, rowKey, type Tables } from '../storage/replica-db';

/** The origin of updates that came from the server: they are merged, never uploaded again. */
const REMOTE = Symbol('concord remote update');

export interface CrdtDocsOptions {
  schema: Schema;
  /** Runs `work` in one untracked transaction over every table (the sync engine's). */
  run<T>(work: (tx: Tables) => Promise<T>): Promise<T>;
  /** Told after a local edit was persisted, with its outbox entry (to sync soon, and tell the other tabs). */
  written(edit: CrdtUpdate): void;
  log(error: unknown): void;
}

/**
 * The live documents of CRDT fields, one `Y.Doc` per field however often it is asked for. A local
 * edit is persisted (state, row text and outbox entry, in one transaction) in the order made;
 * what the server sends is applied to the open document at once.
 */
export function createCrdtDocs({ schema, run, written, log }: CrdtDocsOptions) {
  const open = new Map<string, { doc: Y.Doc; saved: Promise<void> }>();
  const keyOf = (table: string, rowguid: string, column: string) => `${rowKey(table, rowguid)}\u0000${column}`;
  return {
    async doc(table: string, rowguid: string, column: string): Promise<Y.Doc> {
      if (!tableOf(schema, table)?.crdt.includes(column)) {
        throw new ConcordError('unknown_column', `"${table}.${column}" is not a crdt column of the schema`);
      }
      const key = keyOf(table, rowguid, column);
      const known = open.get(key);
      if (known) return known.doc;
      const stored = await run((tx) => crdtFields(tx).get([table, rowguid, column]));
      const again = open.get(key); // asked twice at once: one document
      if (again) return again.doc;
      const doc = new Y.Doc();
      if (stored) Y.applyUpdate(doc, stored.state, REMOTE);
      const field = { doc, saved: Promise.resolve() };
      // Edits made while one is being persisted are persisted together, as one update.
      let queued: Uint8Array[] = [];
      const persist = async () => {
        if (queued.length === 0) return;
        const taken = queued;
        queued = [];
        const edit = { table, rowguid, column, update: Y.mergeUpdates(taken) };
        try {
          await run((tx) => persistLocalEdit(tx, edit));
        } catch (error) {
          queued = [...taken, ...queued]; // kept for the next attempt: the document still holds them
          throw error;
        }
        written(edit);
      };
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === REMOTE) return;
        queued.push(update);
        field.saved = field.saved.then(persist).catch(log);
      });
      open.set(key, field);
      return doc;
    },
    /** Applies updates merged elsewhere (what the server sent, another tab's edits) to the open documents. */
    remote(updates: readonly CrdtUpdate[]): void {
      for (const { table, rowguid, column, update } of updates) {
        const field = open.get(keyOf(table, rowguid, column));
        if (field) Y.applyUpdate(field.doc, update, REMOTE);
      }
    },
    /** Settles once every local edit made so far is persisted. */
    async flushed(): Promise<void> {
      await Promise.all([...open.values()].map((field) => field.saved));
    },
    close(): void {
      for (const { doc } of open.values()) doc.destroy();
      open.clear();
    },
  };
}
