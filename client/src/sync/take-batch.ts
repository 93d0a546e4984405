import { tableOf, type Schema } from '@concord/shared';
import { toBase64 } from '../storage/base64';
import { unsent } from '../storage/crdt-fields';
import { crdtFields, outbox, rowKey, type OutboxEntry, type Tables } from '../storage/replica-db';
import { replicaState, type Batch } from '../storage/replica-state';
import { changeBytes, maxChangeBytes, wireChange } from '../storage/wire-change';
import { groupBy } from '../storage/group-by';
import type { SyncContext } from './sync-context';

type Row = Record<string, unknown>;

export interface TakenBatch {
  /** Undefined when nothing can go up. */
  batch?: Batch;
  /** Entries too large for any push the server accepts; kept pending, never sent, never lost. */
  oversized: OutboxEntry[];
}

/**
 * Reads the next batch, in local-generation order, and marks it in flight. A batch holds at most
 * `maxUploadChanges` changes (and the server's `maxPushChanges`) and fits the server's body
 * limit, and it never splits a local generation: the server acknowledges whole generations. So
 * when one generation alone does not fit, the entries that do not are moved to a new local
 * generation (as if written later), and an entry too large for any push is moved too, and
 * reported, so it blocks nothing behind it.
 */
export async function takeBatch(ctx: SyncContext): Promise<TakenBatch> {
  return ctx.syncTransaction(async (tx) => {
    const state = replicaState(tx);
    const limits = await state.get('serverLimits');
    const maxChanges = Math.min(ctx.maxUploadChanges, limits.maxPushChanges);
    const budget = maxChangeBytes(limits);
    const head = await outbox(tx)
      .orderBy('localGeneration')
      .limit(maxChanges + 1)
      .toArray();
    if (head.length === 0) return { oversized: [] };
    const rows = await currentRows(tx, head);
    const documents = await crdtStates(tx, ctx.schema, head);
    // Sized with their local generation written out, as any but a batch's last generation is.
    const sized = head.map((entry, i) => {
      const change = wireChange(tableOf(ctx.schema, entry.table)!, entry, rows[i], Number.NaN, documents[i]);
      return { entry, row: rows[i], crdt: documents[i], bytes: changeBytes(change) };
    });
    const oversized = sized.filter((item) => item.bytes > budget).map((item) => item.entry);
    const fitting = sized.filter((item) => item.bytes <= budget);
    let taken = 0;
    for (let bytes = 0; taken < fitting.length && taken < maxChanges; taken++) {
      bytes += fitting[taken]!.bytes;
      if (bytes > budget) break;
    }
    let chosen = fitting.slice(0, taken);
    const moved = [...oversized];
    const last = chosen.at(-1)?.entry.localGeneration;
    if (last !== undefined) {
      const ofLast = (entries: readonly OutboxEntry[]) => entries.filter((entry) => entry.localGeneration === last);
      const accounted = new Set(
        [...ofLast(chosen.map((item) => item.entry)), ...ofLast(oversized)].map((entry) =>
          rowKey(entry.table, entry.rowguid),
        ),
      );
      const ofGeneration = outbox(tx).where('localGeneration').equals(last);
      const rest = (await ofGeneration.primaryKeys()).filter(
        ([table, rowguid]) => !accounted.has(rowKey(table, rowguid)),
      );
      if (rest.length > 0) {
        const whole = chosen.filter((item) => item.entry.localGeneration !== last);
        // One generation larger than a push: what did not fit goes to a generation of its own.
        if (whole.length > 0) chosen = whole;
        else moved.push(...(await outbox(tx).bulkGet(rest)).filter((entry): entry is OutboxEntry => !!entry));
      }
    }
    if (moved.length > 0) await restamp(tx, moved);
    if (chosen.length === 0) return { oversized };

    const entries = chosen.map((item) => item.entry);
    const to = entries.at(-1)!.localGeneration;
    const changes = chosen.map(({ entry, row, crdt }) =>
      wireChange(tableOf(ctx.schema, entry.table)!, entry, row, to, crdt),
    );
    // The range starts right after what the server acknowledged, so it covers the generations
    // whose changes were coalesced into later ones or cancelled: the server never sees a gap.
    const acknowledged = await state.get('sentGeneration');
    const from = Math.min(acknowledged + 1, entries[0]!.localGeneration);
    const batch: Batch = { entries, changes, from, to };
    await state.set({ inFlight: to, inFlightBatch: batch });
    return { batch, oversized };
  });
}

/** Moves entries to a new local generation of their own, after every one taken so far. */
async function restamp(tx: Tables, entries: readonly OutboxEntry[]): Promise<void> {
  const state = replicaState(tx);
  const generation = (await state.get('localGeneration')) + 1;
  await outbox(tx).bulkPut(entries.map((entry) => ({ ...entry, localGeneration: generation })));
  await state.set({ localGeneration: generation });
}

/** The current local rows of the entries, in their order (undefined where a row is gone). */
export async function currentRows(tx: Tables, entries: readonly OutboxEntry[]): Promise<(Row | undefined)[]> {
  const found = new Map<OutboxEntry, Row | undefined>();
  for (const [table, group] of groupBy(entries, (entry) => entry.table)) {
    const rows = (await tx.table(table).bulkGet(group.map((entry) => entry.rowguid))) as (Row | undefined)[];
    group.forEach((entry, i) => found.set(entry, rows[i]));
  }
  return entries.map((entry) => found.get(entry));
}

/** Per entry, what each CRDT column of its row sends (base64): what the server does not hold of it. */
async function crdtStates(
  tx: Tables,
  schema: Schema,
  entries: readonly OutboxEntry[],
): Promise<Record<string, string>[]> {
  const keys = entries.flatMap(({ table, rowguid }) =>
    (tableOf(schema, table)?.crdt ?? []).map((column): [string, string, string] => [table, rowguid, column]),
  );
  const byRow = new Map<string, Record<string, string>>();
  for (const field of keys.length > 0 ? await crdtFields(tx).bulkGet(keys) : []) {
    if (!field) continue;
    const key = rowKey(field.table, field.rowguid);
    byRow.set(key, { ...byRow.get(key), [field.column]: toBase64(unsent(field)) });
  }
  return entries.map(({ table, rowguid }) => byRow.get(rowKey(table, rowguid)) ?? {});
}
