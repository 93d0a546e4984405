import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { priority } from '@concord/server';
import { storeKinds, type StoreLocation } from './store-fixtures';
import { createTestServer, type TestServer, type TestServerOptions } from '../support/test-server';
import { expectConverged, openTestReplica, recordingFetch, type TestReplicaOptions } from '../support/test-replica';

let server: TestServer;
let location: StoreLocation;
const open: Replica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  await server?.close();
  await location.dispose();
});
const replica = async (options: TestReplicaOptions = {}) => {
  const opened = await openTestReplica(server, options);
  open.push(opened);
  return opened;
};
const start = (options?: TestServerOptions) => (server = createTestServer({ ...options, store: location.open() }));

// The same replica scenarios over every store: a replica cannot tell which database the server uses.
describe.each(storeKinds)('$name store', (kind) => {
  beforeEach(async () => {
    location = await kind.create();
  });

  describe('replica sync', () => {
    it('offline edits queue up and reach another replica after sync', async () => {
      start();
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
      start();
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
      start();
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
      start();
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
      start();
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
      start();
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

    it('an insert deleted again before upload cancels out locally and uploads nothing', async () => {
      start();
      const wire = recordingFetch(server);
      const a = await replica({ fetch: wire.fetch });
      await a.db.table('notes').add({ id: 'n1', title: 'fleeting' });
      await a.db.table('notes').delete('n1');
      expect(await a.db.table('_changes').count()).toBe(0);
      await a.sync();
      expect(wire.pushes()).toEqual([]);
    });

    it('a pending insert of a rowguid the server already has is uploaded when deleted, never cancelled', async () => {
      start();
      let release = () => {};
      let reached = () => {};
      let paused: Promise<void> | undefined = undefined;
      const pausingFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
        if (paused && String(input).endsWith('/v1/pull')) {
          reached();
          await paused;
        }
        return server.app.request(input as string, init);
      };
      const a = await replica({ fetch: pausingFetch });
      const b = await replica();
      await b.db.table('notes').add({ id: 'n1', title: 'from b' });
      await b.sync();
      paused = new Promise((resolve) => (release = resolve));
      const downloading = new Promise<void>((resolve) => (reached = resolve));
      const round = a.sync();
      await downloading; // the round has uploaded (nothing) and is downloading
      await a.db.table('notes').add({ id: 'n1', title: 'from a' });
      release();
      await round;
      await a.db.table('notes').delete('n1');
      expect(await a.db.table('_changes').toArray()).toMatchObject([{ rowguid: 'n1', op: 'delete' }]);
      await a.sync();
      await b.sync();
      await expectConverged(server, a, b);
      expect(await a.db.table('notes').get('n1')).toMatchObject({ title: 'from b' });
    });

    it('a delete of a row the server has seen uploads a tombstone', async () => {
      start();
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'notes', { id: 'n1', title: 'doomed' });
      await a.db.table('notes').update('n1', { title: 'edited' });
      await a.db.table('notes').delete('n1');
      expect(await a.db.table('_changes').toArray()).toMatchObject([{ op: 'delete', baseGeneration: 1 }]);
      await a.sync();
      await b.sync();
      expect(await b.db.table('notes').count()).toBe(0);
      await expectConverged(server, a, b);
    });
    it.each(['notes', 'stock'])(
      'a %s row written again while its delete is pending has, on every replica, the shape it would have had the delete synced first',
      async (table) => {
        start();
        const [a, b, c] = [await replica(), await replica(), await replica()];
        const old = table === 'notes' ? { title: 'old', body: 'text', rank: 3 } : { sku: 'old', qty: 3, price: 1.5 };
        const fresh = table === 'notes' ? { title: 'new' } : { qty: 7 };
        await shareRow(a, b, table, { id: 'r1', ...old });
        await c.sync();
        // a: the delete and the new row go up together; c: the delete syncs first, then the new row.
        await a.db.table(table).delete('r1');
        await a.db.table(table).put({ id: 'r1', ...fresh });
        expect(await a.db.table('_changes').toArray()).toMatchObject([{ op: 'upsert', replace: true }]);
        await a.sync();
        await b.sync();
        expect(await b.db.table(table).get('r1')).toEqual({ id: 'r1', ...fresh });
        expect(await a.db.table(table).get('r1')).toEqual({ id: 'r1', ...fresh });
        await c.db.table(table).delete('r1');
        await c.sync();
        await c.db.table(table).put({ id: 'r1', ...fresh });
        await c.sync();
        await a.sync();
        await b.sync();
        for (const r of [a, b, c]) expect(await r.db.table(table).get('r1')).toEqual({ id: 'r1', ...fresh });
        await expectConverged(server, a, b, c);
        const stored = (await server.store.changesSince({ after: 0, limit: 100 })).rows.find(
          (row) => row.rowguid === 'r1',
        )!;
        expect(stored.values).toEqual(fresh);
      },
    );
  });

  describe('conflicts between replicas', () => {
    it('column tracking: edits to different columns of one row both survive on both replicas', async () => {
      start();
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'stock', { id: 's1', sku: 'S1', qty: 10, price: 2 });
      await a.db.table('stock').update('s1', { qty: 7 });
      await b.db.table('stock').update('s1', { price: 2.5 });
      await a.sync();
      expect(await b.sync()).toMatchObject({ conflicts: 0 });
      await a.sync();
      for (const r of [a, b])
        expect(await r.db.table('stock').get('s1')).toEqual({ id: 's1', sku: 'S1', qty: 7, price: 2.5 });
      expect((await server.conflicts()).conflicts).toEqual([]);
      await expectConverged(server, a, b);
    });

    it('column tracking: the same column conflicts, the resolver decides, both replicas agree and see the conflict', async () => {
      start();
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'stock', { id: 's1', sku: 'S1', qty: 10 });
      await a.db.table('stock').update('s1', { qty: 7 });
      await b.db.table('stock').update('s1', { qty: 12 });
      await a.sync();
      expect(await b.sync()).toMatchObject({ conflicts: 1 });
      await a.sync();
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ qty: 7 });
      const log = (await server.conflicts()).conflicts;
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ columns: ['qty'], winningValues: { qty: 7 }, losingValues: { qty: 12 } });
      for (const r of [a, b]) expect((await r.conflicts()).map((c) => c.id)).toEqual([log[0]!.id]);
      await expectConverged(server, a, b);
    });

    it('a higher-priority replica wins a row conflict even when it uploads second', async () => {
      let next = 0;
      start({ replicaPriority: () => [0, 50][next++] ?? 0, resolvers: { default: priority() } });
      const low = await replica();
      await low.sync();
      const high = await replica();
      await high.sync();
      await low.db.table('notes').add({ id: 'n1', title: 'base' });
      await low.sync();
      await high.sync();
      await low.db.table('notes').update('n1', { title: 'low' });
      await high.db.table('notes').update('n1', { title: 'high' });
      await low.sync();
      await high.sync();
      await low.sync();
      for (const r of [low, high]) expect(await r.db.table('notes').get('n1')).toMatchObject({ title: 'high' });
      await expectConverged(server, low, high);
    });

    it('delete on one replica while the other updates: both end in the same state and the conflict is logged', async () => {
      start();
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'notes', { id: 'n1', title: 'base' });
      await a.db.table('notes').delete('n1');
      await b.db.table('notes').update('n1', { title: 'edited' });
      await a.sync();
      expect(await b.sync()).toMatchObject({ conflicts: 1 });
      await a.sync();
      for (const r of [a, b]) expect(await r.db.table('notes').get('n1')).toBeUndefined();
      expect((await server.conflicts()).conflicts).toMatchObject([
        { type: 'update-delete', winner: (await state(a)).replicaId },
      ]);
      await expectConverged(server, a, b);
    });

    it('update on one replica while the other deletes: the resolved-away delete is undone locally', async () => {
      start();
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'notes', { id: 'n1', title: 'base' });
      await a.db.table('notes').update('n1', { title: 'edited' });
      await b.db.table('notes').delete('n1');
      await a.sync();
      expect(await b.sync()).toMatchObject({ conflicts: 1 });
      for (const r of [a, b]) expect(await r.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'edited' });
      expect((await server.conflicts()).conflicts).toMatchObject([{ type: 'delete-update' }]);
      await expectConverged(server, a, b);
    });

    it('no self-conflicts: edit, sync, edit again before downloading, sync again', async () => {
      start();
      const a = await replica();
      await a.db.table('notes').add({ id: 'n1', title: 'one' });
      await a.sync();
      await a.db.table('notes').update('n1', { title: 'two' });
      await a.sync();
      await a.db.table('notes').update('n1', { title: 'three' });
      expect(await a.sync()).toMatchObject({ conflicts: 0 });
      expect((await server.conflicts()).conflicts).toEqual([]);
      await expectConverged(server, a);
    });

    it('a rejected change never stays visible locally', async () => {
      start({
        resolvers: {
          tables: { notes: { row: { name: 'refuse', resolve: () => ({ kind: 'reject', reason: 'closed' }) } } },
        },
      });
      const a = await replica();
      const b = await replica();
      await shareRow(a, b, 'notes', { id: 'n1', title: 'base' });
      await a.db.table('notes').update('n1', { title: 'first' });
      await b.db.table('notes').update('n1', { title: 'refused' });
      await a.sync();
      expect(await b.sync()).toMatchObject({ rejected: 1 });
      expect(await b.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'first' });
      expect((await server.conflicts()).conflicts).toMatchObject([{ resolver: 'refuse', reason: 'closed' }]);
      await expectConverged(server, a, b);
    });
  });

  async function state(replica: Replica): Promise<Record<string, unknown>> {
    const records = (await replica.db.table('_state').toArray()) as { key: string; value: unknown }[];
    return Object.fromEntries(records.map((record) => [record.key, record.value]));
  }

  /** Creates a row on the first replica and syncs it to every other, so later edits start from one base. */
});

async function shareRow(first: Replica, other: Replica, table: string, row: Record<string, unknown>): Promise<void> {
  await first.db.table(table).add(row);
  await first.sync();
  await other.sync();
}
