import fc from 'fast-check';
import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { playPlan, type Note } from '../support/dexie-plan';
import { plans } from '../support/dexie-plan-arbitrary';
import { expectConverged } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

/**
 * The tracked database must behave exactly as plain Dexie does, whatever the app does: the same
 * answer to every operation and the same stored rows, in every order of operations inside a
 * transaction — awaited or not. Each case runs one random sequence on a replica and on a plain
 * Dexie database with the same tables, and compares.
 */

const world = useTestWorld();
let counter = 0;

async function databases() {
  const name = `differential-${++counter}`;
  const server = world.start();
  const replica = await world.replica({ name, realtime: false, locks: null, openChannel: null, persist: false });
  const plain = new Dexie(name, { indexedDB: new IDBFactory(), IDBKeyRange });
  plain.version(1).stores({ notes: 'id', stock: 'id' });
  await plain.open();
  world.cleanup(() => plain.close());
  return { tracked: replica.db, plain, replica, server };
}

describe('the tracked database behaves as plain Dexie', () => {
  it('a read issued right after an unawaited write in the same transaction sees the write', async () => {
    const { tracked, plain } = await databases();
    for (const db of [tracked, plain]) {
      const items = db.table<Note, string>('notes');
      const seen = await db.transaction('rw', items, () => {
        void items.put({ id: 'u1', title: 'one' });
        return items.get('u1');
      });
      expect(seen).toEqual({ id: 'u1', title: 'one' });
    }
  });

  it('a where(…).modify() after an unawaited put computes from the rows the put wrote', async () => {
    const { tracked, plain } = await databases();
    const results = [];
    for (const db of [tracked, plain]) {
      const items = db.table<Note, string>('notes');
      await items.put({ id: 'a', title: 'first' });
      await db.transaction('rw', items, () => {
        void items.put({ id: 'b', title: 'new' });
        return items
          .where(':id')
          .below('z')
          .modify((r) => void (r.title = `${r.title ?? ''}!`));
      });
      results.push(await items.toArray());
    }
    expect(results[0]).toEqual([
      { id: 'a', title: 'first!' },
      { id: 'b', title: 'new!' },
    ]);
    expect(results[0]).toEqual(results[1]);
  });

  it('random sequences of reads and writes, awaited or not, give the same answers and the same rows — and upload them', async () => {
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const { tracked, plain, replica, server } = await databases();
        const [mine, theirs] = [await playPlan(tracked, plan), await playPlan(plain, plan)];
        expect(mine).toEqual(theirs);
        // The outbox recorded every write in the order it happened: the server ends with the same rows.
        await replica.sync();
        await expectConverged(server, replica);
      }),
      { numRuns: Number(process.env.DIFFERENTIAL_RUNS ?? 100) },
    );
  });
});
