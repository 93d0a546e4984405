import { describe, expect, it } from 'vitest';
import { priority } from '@concord/server';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { expectConverged, replicaState, shareRow } from '../support/test-replica';

const { each, start, replica } = useStoreWorld();

// The same replica scenarios over every store: a replica cannot tell which database the server uses.
describe.each(storeKinds)('$name store', (kind) => {
  each(kind);

  describe('conflicts between replicas', () => {
    it('column tracking: edits to different columns of one row both survive on both replicas', async () => {
      const server = start();
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
      const server = start();
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
      const server = start({ replicaPriority: () => [0, 50][next++] ?? 0, resolvers: { default: priority() } });
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
      const server = start();
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
        { type: 'update-delete', winner: (await replicaState(a)).replicaId },
      ]);
      await expectConverged(server, a, b);
    });

    it('update on one replica while the other deletes: the resolved-away delete is undone locally', async () => {
      const server = start();
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
      const server = start();
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
      const server = start({
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
});
