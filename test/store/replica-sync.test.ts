import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { expectConverged, openTestReplica, recordingFetch } from '../support/test-replica';

const { each, start, replica } = useStoreWorld();

// The same replica scenarios over every store: a replica cannot tell which database the server uses.
describe.each(storeKinds)('$name store', (kind) => {
  each(kind);

  describe('replica sync', () => {
    it('offline edits queue up and reach another replica after sync', async () => {
      const server = start();
      const a = await replica();
      const b = await replica();
      const id = await a.db.table('notes').add({ title: 'hello', rank: 1 });
      expect(typeof id).toBe('string');
      await a.db.table('notes').update(id, { body: 'world' });
      expect(await a.db.table('_changes').count()).toBe(1);
      expect(await a.sync()).toMatchObject({ uploaded: 1, conflicts: 0, rejected: 0 });
      expect(await b.sync()).toMatchObject({ downloaded: 1 });
      expect(await b.db.table('notes').get(id)).toEqual({ id, title: 'hello', rank: 1, body: 'world' });
      await expectConverged(server, a, b);
    });

    it('pending changes survive closing and reopening the replica while offline, and upload afterwards', async () => {
      const server = start();
      const factory = new IDBFactory();
      const offline = async () => {
        throw new TypeError('offline');
      };
      const first = await openTestReplica(server, { indexedDB: factory, name: 'device', fetch: offline });
      await first.db.table('notes').bulkAdd([
        { id: 'n1', title: 'one' },
        { id: 'n2', title: 'two' },
      ]);
      await expect(first.sync()).rejects.toMatchObject({ code: 'unavailable' });
      expect(first.status).toMatchObject({ state: 'offline', pending: 2 });
      await first.close();

      const reopened = await replica({ indexedDB: factory, name: 'device' });
      expect(reopened.status.pending).toBe(2);
      expect(await reopened.sync()).toMatchObject({ uploaded: 2 });
      const other = await replica();
      await other.sync();
      await expectConverged(server, reopened, other);
      expect(reopened.status).toMatchObject({ state: 'idle', pending: 0, error: null });
      expect(reopened.status.lastSyncAt).not.toBeNull();
    });

    it('coalesces 50 edits to one row into one uploaded change with the base values from before the first edit', async () => {
      const server = start();
      const wire = recordingFetch(server);
      const a = await replica({ fetch: wire.fetch });
      const b = await replica();
      await a.db.table('notes').add({ id: 'n1', title: 'v0', rank: 0, body: 'keep' });
      await a.sync();
      for (let i = 1; i <= 50; i++) await a.db.table('notes').update('n1', { title: `v${i}`, rank: i });
      expect(await a.db.table('_changes').count()).toBe(1);
      expect(await a.sync()).toMatchObject({ uploaded: 1, conflicts: 0 });
      const last = wire.pushes().at(-1)!.request as { changes: unknown[] };
      // op 'upsert' and the push's own local generation are protocol defaults, left out on the wire.
      expect(last.changes).toEqual([
        {
          table: 'notes',
          rowguid: 'n1',
          baseGeneration: 1,
          values: { title: 'v50', rank: 50 },
          base: { title: 'v0', rank: 0 },
        },
      ]);
      await b.sync();
      expect(await b.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'v50', rank: 50, body: 'keep' });
      await expectConverged(server, a, b);
    });

    it('an aborted transaction leaves neither the app write nor an outbox entry', async () => {
      start();
      const a = await replica();
      await a.db.table('notes').add({ id: 'n0', title: 'before' });
      await expect(
        a.db.transaction('rw', a.db.table('notes'), async () => {
          await a.db.table('notes').add({ id: 'n1', title: 'doomed' });
          await a.db.table('notes').update('n0', { title: 'doomed too' });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await a.db.table('notes').toArray()).toEqual([{ id: 'n0', title: 'before' }]);
      expect(await a.db.table('_changes').toArray()).toMatchObject([{ rowguid: 'n0', op: 'upsert', inserted: true }]);
    });

    it('a write the server would refuse fails in the app and leaves nothing behind', async () => {
      start();
      const a = await replica();
      await expect(a.db.table('notes').add({ id: 'n1', title: 'x', nope: 1 })).rejects.toMatchObject({
        code: 'unknown_column',
      });
      await expect(a.db.table('notes').add({ id: 'n2', rank: 'high' })).rejects.toMatchObject({
        code: 'invalid_value',
      });
      await expect(a.db.table('notes').add({ id: 7, title: 'x' })).rejects.toMatchObject({ code: 'invalid_value' });
      expect(await a.db.table('notes').count()).toBe(0);
      expect(await a.db.table('_changes').count()).toBe(0);
    });

    it('tracks bulk writes, modify, bulkDelete and clear', async () => {
      const server = start();
      const a = await replica();
      const b = await replica();
      await a.db.table('notes').bulkPut([
        { id: 'n1', title: 'one', rank: 1 },
        { id: 'n2', title: 'two', rank: 2 },
        { id: 'n3', title: 'three', rank: 3 },
        { id: 'n4', title: 'four', rank: 4 },
      ]);
      await a.sync();
      await b.sync();
      await a.db.table('notes').where('id').anyOf('n1', 'n2').modify({ pinned: true });
      await a.db.table('notes').bulkDelete(['n3']);
      await a.db.table('stock').add({ id: 's1', sku: 'S', qty: 1 });
      expect(await a.db.table('_changes').count()).toBe(4);
      await a.sync();
      await b.sync();
      expect(await b.db.table('notes').get('n1')).toMatchObject({ pinned: true });
      expect(await b.db.table('notes').get('n3')).toBeUndefined();
      await a.db.table('notes').clear();
      await a.sync();
      await b.sync();
      expect(await b.db.table('notes').count()).toBe(0);
      expect(await b.db.table('stock').count()).toBe(1);
      await expectConverged(server, a, b);
    });

    it('one bulk write over new, synced and pending rows records each with its own base and one local generation', async () => {
      const server = start();
      const a = await replica();
      await a.db.table('notes').bulkPut([
        { id: 'n2', title: 'synced', rank: 2 },
        { id: 'n6', title: 'synced', rank: 6 },
      ]);
      await a.sync();
      await a.db.table('notes').update('n6', { title: 'edited', rank: 60 });
      await a.db.table('notes').add({ id: 'n4', title: 'pending', rank: 4 });
      await a.db.table('notes').bulkPut([
        { id: 'n1', title: 'new', rank: 1 },
        { id: 'n2', title: 'synced', rank: 20 },
        { id: 'n4', title: 'pending', rank: 40 },
        { id: 'n6', title: 'again', rank: 60 },
        { id: 'n9', title: 'new', rank: 9 },
        { id: 'n1', title: 'new twice', rank: 1 },
      ]);
      const entries = (await a.db.table('_changes').toArray()) as Record<string, unknown>[];
      const generations = new Set(entries.map((entry) => entry.localGeneration));
      expect(generations.size).toBe(1);
      expect(
        Object.fromEntries(
          entries.map(({ rowguid, columns, base, inserted }) => [rowguid, { columns, base, inserted }]),
        ),
      ).toEqual({
        n1: { columns: ['title', 'rank'], base: {}, inserted: true },
        n2: { columns: ['rank'], base: { rank: 2 }, inserted: false },
        n4: { columns: ['title', 'rank'], base: {}, inserted: true },
        n6: { columns: ['title', 'rank'], base: { title: 'synced', rank: 6 }, inserted: false },
        n9: { columns: ['title', 'rank'], base: {}, inserted: true },
      });
      expect(await a.sync()).toMatchObject({ uploaded: 5, conflicts: 0, rejected: 0 });
      const b = await replica();
      await b.sync();
      expect(await b.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'new twice', rank: 1 });
      await expectConverged(server, a, b);
    });

    it('a transaction larger than one upload batch gets several local generations, and no batch splits one', async () => {
      const server = start();
      const wire = recordingFetch(server);
      const a = await replica({ fetch: wire.fetch, maxUploadChanges: 10 });
      const rows = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: `n${from + i}`, rank: from + i }));
      await a.db.table('notes').bulkAdd(rows(0, 25));
      await a.db.transaction('rw', a.db.table('notes'), async () => {
        await a.db.table('notes').bulkAdd(rows(25, 4));
        await a.db.table('notes').bulkAdd(rows(29, 3));
      });
      const entries = (await a.db.table('_changes').toArray()) as { localGeneration: number }[];
      const sizes = new Map<number, number>();
      for (const { localGeneration } of entries) sizes.set(localGeneration, (sizes.get(localGeneration) ?? 0) + 1);
      expect([...sizes.values()]).toEqual([10, 10, 5, 7]);
      expect(await a.sync()).toMatchObject({ uploaded: 32 });
      const batches = wire.pushes().map(
        (exchange) =>
          exchange.request as {
            fromLocalGeneration: number;
            toLocalGeneration: number;
            changes: { localGeneration?: number }[];
          },
      );
      expect(batches.map((batch) => batch.changes.length)).toEqual([10, 10, 5, 7]);
      for (const batch of batches) {
        expect(
          batch.changes.every(
            ({ localGeneration = batch.toLocalGeneration }) =>
              localGeneration >= batch.fromLocalGeneration && localGeneration <= batch.toLocalGeneration,
          ),
        ).toBe(true);
      }
      const b = await replica();
      await b.sync();
      await expectConverged(server, a, b);
    });
  });
});
