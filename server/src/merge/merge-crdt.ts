import * as Y from 'yjs';
import { CRDT_TEXT, type FromReplicaChange } from '@concord/shared';
import type { CrdtFieldState, StoredRow } from '../storage/store';
import type { MergeOutcome } from './merge-outcome';

/** The most a CRDT column's merged state may hold, in bytes: an edit that would pass it is refused. */
export const MAX_CRDT_BYTES = 4 * 1024 * 1024;

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
    const stored = Object.hasOwn(crdt, column) ? crdt[column] : undefined;
    let field: CrdtField;
    try {
      field = mergeCrdt(stored?.state, [update]);
    } catch (error) {
      throw new Error(`the crdt update of "${change.table}.${column}" ${(error as Error).message}`);
    }
    // The update is logged at the write's generation once it has one (`settleCrdt`).
    crdt[column] = { state: field.state, upTo: stored?.upTo ?? 0, log: [...(stored?.log ?? []), [UNSETTLED, update]] };
    values[column] = field.text;
    touched.set(column, priority);
  }
  return {
    ...outcome,
    write: { values, deleted: false, priority: outcome.write?.priority ?? priority, touched, crdt },
  };
}

/** The generation of an update merged by a write that has none yet. */
const UNSETTLED = -1;

/** Most updates a field logs before they are folded into its state. */
const MAX_LOG = 32;

/**
 * Gives the updates a row's write merged its generation, and folds a field's log into its state
 * once the log holds more than `MAX_LOG` updates or twice the state's bytes: a replica behind the
 * fold is then sent the whole state, the smallest form of everything before it.
 */
export function settleCrdt(row: StoredRow): void {
  for (const field of Object.values(row.crdt ?? {})) {
    for (const entry of field.log) if (entry[0] === UNSETTLED) entry[0] = row.generation;
    const logged = field.log.reduce((bytes, [, update]) => bytes + update.length, 0);
    if (field.log.length > MAX_LOG || logged > 2 * field.state.length) [field.upTo, field.log] = [row.generation, []];
  }
}

/**
 * What a replica that has a row up to generation `after` lacks of its CRDT columns: per column
 * changed since, the updates merged after it (merged into one), or the whole state when they
 * were folded into it (or from generation 0). Undefined when none changed.
 */
export function crdtSince(
  crdt: Readonly<Record<string, CrdtFieldState>> | undefined,
  after: number,
): Record<string, string> | undefined {
  const lacking: Record<string, string> = {};
  for (const [column, field] of Object.entries(crdt ?? {})) {
    // From the start, the state is the smallest form of it all.
    if (after === 0 || after < field.upTo) {
      lacking[column] = field.state;
      continue;
    }
    const updates = field.log
      .filter(([generation]) => generation > after)
      .map(([, update]) => Buffer.from(update, 'base64'));
    if (updates.length > 0) lacking[column] = Buffer.from(Y.mergeUpdates(updates)).toString('base64');
  }
  return Object.keys(lacking).length > 0 ? lacking : undefined;
}
