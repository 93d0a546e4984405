import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { defineSchema } from '@concord/shared';
import { openNodeReplica } from '../support/node-replica';
import { useTestWorld } from '../support/test-world';

/**
 * Whole replicas editing one CRDT text at random: insertions of characters no one else types
 * (each unique), deletions anywhere, sync rounds, offline spells (a round that cannot reach the
 * server) and restarts (the replica closed and opened again from its database). After every
 * replica syncs to quiescence, the oracle demands one text everywhere — the server's, every
 * replica's row and every open document — holding every inserted character that no one deleted,
 * with nothing in the conflict log.
 */
const world = useTestWorld();
const schema = defineSchema({
  version: 1,
  tables: { docs: { columns: { title: 'string', text: 'string' }, crdt: ['text'] } },
});
const REPLICAS = 3;

type Op =
  | { kind: 'insert'; replica: number; at: number }
  | { kind: 'delete'; replica: number; at: number }
  | { kind: 'sync' | 'restart' | 'offline'; replica: number };

const replica = fc.nat(REPLICAS - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('insert' as const), replica, at: fc.nat(40) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), replica, at: fc.nat(40) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('sync' as const), replica }), weight: 2 },
  fc.record({ kind: fc.constantFrom('restart' as const, 'offline' as const), replica }),
);

async function run(ops: readonly Op[]): Promise<void> {
  const server = world.start({ schema });
  const offline = new Set<number>();
  const factories = Array.from({ length: REPLICAS }, () => new IDBFactory());
  const open = (i: number) =>
    openNodeReplica({
      schema,
      name: `crdt-${i}`,
      indexedDB: factories[i]!,
      log: () => undefined,
      fetch: (input, init) =>
        offline.has(i)
          ? Promise.reject(new TypeError('offline'))
          : Promise.resolve(server.app.request(input as string, init)),
    });
  const replicas: Replica[] = [];
  for (let i = 0; i < REPLICAS; i++) replicas.push(await open(i));
  try {
    await replicas[0]!.db.table('docs').add({ id: 'd1', title: 'shared' });
    await replicas[0]!.sync();
    for (const r of replicas.slice(1)) await r.sync();
    const inserted = new Set<string>();
    const deleted = new Set<string>();
    let next = 0x4e00; // CJK characters: each typed once, so each one is traceable
    for (const step of ops) {
      const i = step.replica;
      const r = replicas[i]!;
      if (step.kind === 'sync') {
        await r.sync().catch(() => undefined);
        offline.delete(i);
      } else if (step.kind === 'offline') offline.add(i);
      else if (step.kind === 'restart') {
        await r.close();
        replicas[i] = await open(i);
      } else {
        const text = (await r.crdt('docs', 'd1', 'text')).getText('text');
        if (step.kind === 'insert') {
          const char = String.fromCharCode(next++);
          inserted.add(char);
          text.insert(Math.min(step.at, text.length), char);
        } else if (step.kind === 'delete' && text.length > 0) {
          const at = Math.min(step.at, text.length - 1);
          deleted.add(text.toString()[at]!);
          text.delete(at, 1);
        }
      }
    }
    offline.clear();
    for (let round = 0; round < 2; round++) for (const r of replicas) await r.sync();
    const expected = (await server.store.changesSince({ after: 0, limit: 10 })).rows[0]!.values.text as
      string | undefined;
    for (const char of inserted) if (!deleted.has(char)) expect(expected).toContain(char);
    for (const char of deleted) expect(expected ?? '').not.toContain(char);
    for (const r of replicas) {
      expect((await r.db.table('docs').get('d1')).text).toBe(expected);
      // A text never edited is absent from the row, and empty in its document.
      expect((await r.crdt('docs', 'd1', 'text')).getText('text').toString()).toBe(expected ?? '');
      expect(await r.db.table('_changes').count()).toBe(0);
    }
    expect((await server.conflicts()).conflicts).toEqual([]);
  } finally {
    for (const r of replicas) await r.close().catch(() => undefined);
  }
}

describe('replicas editing CRDT text at random', () => {
  it('end with one text everywhere, holding every character inserted and not deleted', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), run), {
      numRuns: Number(process.env.CRDT_FUZZ_RUNS ?? 15),
      seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
    });
  }, 120_000);
});
