import { describe, expect, it } from 'vitest';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { expectConverged, recordingFetch, shareRow } from '../support/test-replica';

const { each, start, replica } = useStoreWorld();

// The same replica scenarios over every store: a replica cannot tell which database the server uses.
describe.each(storeKinds)('$name store', (kind) => {
  each(kind);

  describe('replica sync', () => {
    it('an insert deleted again before upload cancels out locally and uploads nothing', async () => {
      const server = start();
      const wire = recordingFetch(server);
      const a = await replica({ fetch: wire.fetch });
      await a.db.table('notes').add({ id: 'n1', title: 'fleeting' });
      await a.db.table('notes').delete('n1');
      expect(await a.db.table('_changes').count()).toBe(0);
      await a.sync();
      expect(wire.pushes()).toEqual([]);
    });

    it('a pending insert of a rowguid the server already has is uploaded when deleted, never cancelled', async () => {
      const server = start();
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
      const server = start();
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
        const server = start();
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
});
