import * as Y from 'yjs';
import type { FromReplicaChange } from '@concord/shared';
import type { StoredRow } from '../storage/store';
import type { MergeOutcome } from './merge-outcome';

/** The most a CRDT column's merged state may hold, in bytes: an edit that would pass it is refused. */
export const MAX_CRDT_BYTES = 4 * 1024 * 1024;

/** The name of the shared text in a CRDT column's document. */
export const CRDT_TEXT = 'text';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A field's merged state and its text, after edits were merged into it. */
export interface CrdtField {
  /** The whole state, garbage-collected, as a Yjs update in base64. */
  state: string;
  text: string;
}

/**
 * Merges Yjs updates (base64) into a field's state: never a conflict, whatever the order. Throws
 * with the reason when an update is not base64, not a Yjs update, edits anything but the field's
 * text, depends on edits the server does not have, or would grow the field past `MAX_CRDT_BYTES`;
 * then nothing of it is kept.
 */
export function mergeCrdt(state: string | undefined, updates: readonly string[]): CrdtField {
  const doc = new Y.Doc();
  try {
    if (state) Y.applyUpdate(doc, Buffer.from(state, 'base64'));
    for (const update of updates) {
      if (!BASE64.test(update)) throw new Error('is not base64');
      const bytes = Buffer.from(update, 'base64');
      let roots: unknown[];
      try {
        roots = Y.decodeUpdate(bytes).structs.map((struct) => (struct instanceof Y.Item ? struct.parent : CRDT_TEXT));
        Y.applyUpdate(doc, bytes);
      } catch {
        throw new Error('is not a Yjs update');
      }
      if (roots.some((root) => typeof root === 'string' && root !== CRDT_TEXT)) {
        throw new Error(`edits something else than the field's text ("${CRDT_TEXT}")`);
      }
      if (doc.store.pendingStructs || doc.store.pendingDs) {
        throw new Error('depends on edits the server does not have: send the whole state');
      }
    }
    const merged = Y.encodeStateAsUpdate(doc);
    if (merged.byteLength > MAX_CRDT_BYTES) throw new Error(`would grow the field past ${MAX_CRDT_BYTES} bytes`);
    return { state: Buffer.from(merged).toString('base64'), text: doc.getText(CRDT_TEXT).toString() };
  } finally {
    doc.destroy();
  }
}

/**
 * A merge outcome with the change's CRDT edits merged in: each edited column's state takes the
 * update and its value becomes the text, whatever the resolvers decided of the other columns —
 * unless the row ends deleted (a delete won the row), and then the edits go with it. Throws,
 * naming the column, when an edit does not merge.
 */
export function withCrdtEdits(
  outcome: MergeOutcome,
  before: StoredRow | undefined,
  change: FromReplicaChange,
  priority: number,
): MergeOutcome {
  const edits = Object.entries(change.crdt ?? {});
  const base = outcome.write ?? (before && { ...before, touched: new Map<string, number>() });
  if (edits.length === 0 || !base || base.deleted) return outcome;
  const values = { ...base.values };
  const crdt = { ...before?.crdt };
  const touched = new Map(base.touched);
  for (const [column, update] of edits) {
    let field: CrdtField;
    try {
      field = mergeCrdt(before?.crdt?.[column], [update]);
    } catch (error) {
      throw new Error(`the crdt update of "${change.table}.${column}" ${(error as Error).message}`);
    }
    [crdt[column], values[column]] = [field.state, field.text];
    touched.set(column, priority);
  }
  return {
    ...outcome,
    write: { values, deleted: false, priority: outcome.write?.priority ?? priority, touched, crdt },
  };
}
