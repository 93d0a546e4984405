import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '@concord/server';
import { commitRows, conflict, note, type StoreLocation, type StoreKind } from '../store-fixtures';

/** Notifications travel through the database server; allow for a loaded machine. */
const heardWithin = { timeout: 15_000 };

export function commitEventContract(kind: StoreKind): void {
  describe('onCommit', () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await kind.create();
      store = location.open();
      await store.meta(); // the store is ready: a commit from now on is heard
    });
    afterEach(() => location.dispose());

    it('fires with the highest generation after a transaction that allocated generations commits', async () => {
      const heard: number[] = [];
      store.onCommit((generation) => heard.push(generation));
      await commitRows(store, [note('n1'), note('n2'), note('n3')]);
      await vi.waitFor(() => expect(heard).toEqual([3]), heardWithin);
      await commitRows(store, [note('n4')]);
      await vi.waitFor(() => expect(heard).toEqual([3, 4]), heardWithin);
    });

    it('never fires for a rolled-back transaction or one that allocated nothing, nor after unsubscribing', async () => {
      const heard: number[] = [];
      const stop = store.onCommit((generation) => heard.push(generation));
      await expect(
        store.transaction(async (tx) => {
          await tx.allocateGenerations(2);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await store.transaction(async (tx) => void (await tx.getReplica('nobody')));
      // A marker commit: once it is heard, anything the two transactions above produced would have been too.
      await commitRows(store, [note('marker')]);
      await vi.waitFor(() => expect(heard).toEqual([1]), heardWithin);

      // A second listener tells when the next commit has been delivered.
      const probe: number[] = [];
      store.onCommit((generation) => probe.push(generation));
      stop();
      await commitRows(store, [note('after')]);
      await vi.waitFor(() => expect(probe).toEqual([2]), heardWithin);
      expect(heard).toEqual([1]);
    });

    it('fires, flagged, after a transaction that only adds or settles conflict entries, with the current generation', async () => {
      const heard: [number, boolean][] = [];
      store.onCommit((generation, { conflicts }) => heard.push([generation, conflicts]));
      await commitRows(store, [note('n1')]);
      await vi.waitFor(() => expect(heard).toEqual([[1, false]]), heardWithin);
      await store.transaction((tx) => tx.addConflicts([conflict('c1')]));
      await vi.waitFor(
        () =>
          expect(heard).toEqual([
            [1, false],
            [1, true],
          ]),
        heardWithin,
      );
      await store.transaction((tx) => tx.updateConflict(conflict('c1', { status: 'overridden' })));
      await vi.waitFor(
        () =>
          expect(heard).toEqual([
            [1, false],
            [1, true],
            [1, true],
          ]),
        heardWithin,
      );
    });

    it('a listener that throws affects neither the commit nor the other listeners', async () => {
      const heard: number[] = [];
      store.onCommit(() => {
        throw new Error('bad listener');
      });
      store.onCommit((generation) => heard.push(generation));
      await expect(commitRows(store, [note('n1')])).resolves.toHaveLength(1);
      await vi.waitFor(() => expect(heard).toEqual([1]), heardWithin);
    });
  });

  // Stores that open one database several times, as processes share a SQL database.
  if (kind.instances === 'many') {
    describe('onCommit, with several instances on one database', () => {
      let location: StoreLocation;
      afterEach(() => location.dispose());

      it('a commit through one store instance (one process) reaches the listeners of every other instance on the database', async () => {
        location = await kind.create();
        const [a, b, c] = [location.open(), location.open(), location.open()];
        await Promise.all([a.meta(), b.meta(), c.meta()]);
        const heard = { a: [] as number[], b: [] as number[], c: [] as number[] };
        a.onCommit((generation) => heard.a.push(generation));
        b.onCommit((generation) => heard.b.push(generation));
        c.onCommit((generation) => heard.c.push(generation));

        await commitRows(a, [note('n1'), note('n2')]);
        await vi.waitFor(() => expect(heard).toEqual({ a: [2], b: [2], c: [2] }), heardWithin);
        await commitRows(b, [note('n3')]);
        await vi.waitFor(() => expect(heard).toEqual({ a: [2, 3], b: [2, 3], c: [2, 3] }), heardWithin);

        // A closed instance stops listening; the others keep hearing.
        await c.close();
        await commitRows(a, [note('n4')]);
        // Each instance hears the commit on its own connection, in no set order: wait for both.
        await vi.waitFor(
          () =>
            expect([heard.a, heard.b]).toEqual([
              [2, 3, 4],
              [2, 3, 4],
            ]),
          heardWithin,
        );
        expect(heard.c).toEqual([2, 3]);
        // A listener added to a closed instance is never called either.
        c.onCommit((generation) => heard.c.push(generation));
        await commitRows(a, [note('n5')]);
        await vi.waitFor(() => expect(heard.a).toEqual([2, 3, 4, 5]), heardWithin);
        await vi.waitFor(() => expect(heard.b).toEqual([2, 3, 4, 5]), heardWithin);
        expect(heard.c).toEqual([2, 3]);
      });
    });
  }
}
