import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { defineSchema, type FromReplicaChange } from '@concord/shared';
import { useTestWorld } from '../support/test-world';

/**
 * The server's CRDT merge under random edits: three devices edit one note's text (insertions and
 * deletions anywhere), each pushing its edits in batches, replayed, duplicated and out of order
 * with the other devices', while pulling now and then. At the end every device that pulled holds
 * the server's text, which is what merging every device's document gives, and no conflict is logged.
 */
const world = useTestWorld();
const schema = defineSchema({
  version: 1,
  tables: { notes: { columns: { title: 'string', body: 'string' }, crdt: ['body'] } },
});
const DEVICES = 3;

type Op =
  | { kind: 'insert'; device: number; at: number; text: string }
  | { kind: 'delete'; device: number; at: number; length: number }
  | { kind: 'push'; device: number; replay: boolean }
  | { kind: 'pull'; device: number };

const device = fc.nat(DEVICES - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    device,
    at: fc.nat(60),
    text: fc.string({ minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), device, at: fc.nat(60), length: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('push' as const), device, replay: fc.boolean() }),
  fc.record({ kind: fc.constant('pull' as const), device }),
);

async function run(ops: readonly Op[]): Promise<void> {
  const server = world.start({ schema });
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  interface Device {
    replicaId: string;
    doc: Y.Doc;
    /** The state vector of what the server has of this device's document. */
    sent: Uint8Array;
    generation: number;
    cursor: number;
    last?: FromReplicaChange[];
  }
  const devices: Device[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const { replicaId } = await server.register();
    devices.push({ replicaId, doc: new Y.Doc(), sent: new Uint8Array([0]), generation: 0, cursor: 0 });
  }
  // The first device creates the row; the others start from it.
  const first = devices[0]!;
  first.doc.getText('text').insert(0, 'a shared note');
  const created = await server.push(first.replicaId, [
    {
      table: 'notes',
      rowguid: 'n1',
      op: 'upsert',
      localGeneration: ++first.generation,
      baseGeneration: 0,
      crdt: { body: b64(Y.encodeStateAsUpdate(first.doc)) },
    },
  ]);
  const base = created.results[0]!.generation;
  first.sent = Y.encodeStateVector(first.doc);
  /** The change that sends what the server does not have of a device's document. */
  const unsent = (d: Device): FromReplicaChange => ({
    table: 'notes',
    rowguid: 'n1',
    op: 'upsert',
    localGeneration: ++d.generation,
    baseGeneration: base,
    crdt: { body: b64(Y.encodeStateAsUpdate(d.doc, d.sent)) },
  });
  const pull = async (d: Device) => {
    const page = await server.pull(d.replicaId, d.cursor);
    for (const change of page.changes)
      if (change.crdt?.body) Y.applyUpdate(d.doc, Buffer.from(change.crdt.body, 'base64'));
    d.cursor = page.cursor;
  };
  for (const d of devices.slice(1)) await pull(d);

  for (const step of ops) {
    const d = devices[step.device]!;
    const text = d.doc.getText('text');
    if (step.kind === 'insert') text.insert(Math.min(step.at, text.length), step.text);
    if (step.kind === 'delete' && text.length > 0) {
      const at = Math.min(step.at, text.length - 1);
      text.delete(at, Math.min(step.length, text.length - at));
    }
    if (step.kind === 'pull') await pull(d);
    if (step.kind === 'push') {
      // A replay sends the last push again (a lost answer); otherwise what is new since the last.
      const changes = step.replay && d.last ? d.last : [unsent(d)];
      const pushed = await server.push(d.replicaId, changes);
      expect(pushed.results[0]!.outcome).not.toMatch(/rejected|conflict/);
      const answer = pushed.results[0]!.crdt?.body;
      if (answer) Y.applyUpdate(d.doc, Buffer.from(answer, 'base64'));
      // The server now has everything this device holds — unless it replayed an old push, which
      // carried nothing new: then its later edits are still unsent.
      if (!(step.replay && d.last)) d.sent = Y.encodeStateVector(d.doc);
      d.last = changes;
    }
  }
  // Every device pushes what it has left, then pulls: all hold the server's text.
  for (const d of devices) {
    const pushed = await server.push(d.replicaId, [unsent(d)]);
    const answer = pushed.results[0]!.crdt?.body;
    if (answer) Y.applyUpdate(d.doc, Buffer.from(answer, 'base64'));
  }
  for (const d of devices) await pull(d);
  const reference = new Y.Doc();
  for (const d of devices) Y.applyUpdate(reference, Y.encodeStateAsUpdate(d.doc));
  const { rows } = await server.store.changesSince({ after: 0, limit: 10 });
  expect(rows[0]!.values.body).toBe(reference.getText('text').toString());
  for (const d of devices) expect(d.doc.getText('text').toString()).toBe(reference.getText('text').toString());
  expect((await server.conflicts()).conflicts).toEqual([]);
  await server.close();
}

describe('CRDT columns under random edits', () => {
  it('every device ends with the server text, which merges every edit, and nothing is logged', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), run), {
      numRuns: Number(process.env.CRDT_FUZZ_RUNS ?? 30),
      seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
    });
  }, 120_000);
});
