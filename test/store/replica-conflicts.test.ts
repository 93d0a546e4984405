import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { defineSchema } from '@concord/shared';
import { additive, laterWins, manual } from '@concord/server';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import type { TestServer } from '../support/test-server';
import { expectConverged, serverRows } from '../support/test-replica';

const { each, start, replica } = useStoreWorld();

/** Two replicas sharing one stock row, with manual() on price and additive() on qty. */
async function twoBranches(): Promise<{ server: TestServer; a: Replica; b: Replica }> {
  const server = start({
    resolvers: { tables: { stock: { columns: { price: manual(), qty: additive() } } } },
  });
  const a = await replica();
  const b = await replica();
  await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 10, price: 5 });
  await a.sync();
  await b.sync();
  return { server, a, b };
}

async function conflictingEdits(a: Replica, b: Replica): Promise<string> {
  await a.db.table('stock').update('s1', { qty: 13, price: 6 }); // +3
  await b.db.table('stock').update('s1', { qty: 8, price: 7 }); // -2
  await a.sync();
  await b.sync();
  await a.sync();
  const [open] = await b.conflicts({ status: 'open' });
  expect(open).toMatchObject({ table: 'stock', rowguid: 's1', columns: ['price'], resolver: 'manual', status: 'open' });
  return open!.id;
}

describe.each(storeKinds)('$name store', (kind) => {
  each(kind);

  describe('manual review from the replica', () => {
    it('a manual conflict keeps the server version, stays open, and both replicas see it; additive merges the counter', async () => {
      const { server, a, b } = await twoBranches();
      await conflictingEdits(a, b);
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ qty: 11, price: 6 });
      expect((await a.conflicts({ status: 'open' })).map((c) => c.columns)).toEqual([['price']]);
      await expectConverged(server, a, b);
    });

    it('taking the loser applies it as a new change that replicates to every replica and marks the entry overridden', async () => {
      const { server, a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      const settled = await b.resolveConflict(id, 'loser', { by: 'manager@branch-b' });
      expect(settled).toMatchObject({ id, status: 'overridden', resolvedBy: 'manager@branch-b' });
      expect(await b.db.table('stock').get('s1')).toMatchObject({ price: 7 });
      await a.sync();
      expect(await a.db.table('stock').get('s1')).toMatchObject({ price: 7, qty: 11 });
      expect(await a.conflicts({ status: 'open' })).toEqual([]);
      expect((await a.conflicts()).find((c) => c.id === id)).toMatchObject({ status: 'overridden' });
      await expectConverged(server, a, b);
    });

    it('hand-edited values replace both versions everywhere', async () => {
      const { server, a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      await a.resolveConflict(id, { price: 6.5 });
      await b.sync();
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ price: 6.5, qty: 11 });
      await expectConverged(server, a, b);
    });

    it('confirming the winner closes the conflict and keeps the value', async () => {
      const { server, a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      expect(await b.resolveConflict(id, 'winner')).toMatchObject({ status: 'resolved' });
      await a.sync();
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ price: 6 });
      expect(await b.conflicts({ status: 'open' })).toEqual([]);
      await expectConverged(server, a, b);
    });

    it('an override made from a third replica reaches every replica', async () => {
      const { server, a, b } = await twoBranches();
      const manager = await replica();
      const id = await conflictingEdits(a, b);
      await manager.sync();
      expect(await manager.conflicts({ status: 'open' })).toEqual([]); // none of its own
      const [seen] = await manager.conflicts({ status: 'open', scope: 'all' });
      expect(seen).toMatchObject({ id, winningValues: { price: 6 }, losingValues: { price: 7 } });
      await manager.resolveConflict(id, 'loser', { by: 'head office' });
      await a.sync();
      await b.sync();
      for (const r of [a, b, manager]) expect(await r.db.table('stock').get('s1')).toMatchObject({ price: 7, qty: 11 });
      expect((await a.conflicts()).find((c) => c.id === id)).toMatchObject({
        status: 'overridden',
        resolvedBy: 'head office',
      });
      await expectConverged(server, a, b, manager);
    });

    it('a refused decision changes nothing and surfaces the server error', async () => {
      const { a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      await expect(a.resolveConflict(id, { price: 'cheap' })).rejects.toMatchObject({ code: 'invalid_value' });
      await expect(a.resolveConflict('no-such-conflict', 'loser')).rejects.toMatchObject({ code: 'not_found' });
      expect((await a.conflicts({ status: 'open' })).map((c) => c.id)).toEqual([id]);
    });

    it('a failed sync after a decision goes to the log option, not to the caller: the decision stands', async () => {
      const { server, a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      let down = false;
      const logged: unknown[] = [];
      const manager = await replica({
        fetch: async (input, init) =>
          down && String(input).includes('/v1/pull')
            ? Response.json({ code: 'unavailable', message: 'down for maintenance' }, { status: 503 })
            : server.app.request(input as string, init),
        log: (error) => logged.push(error),
      });
      await manager.sync();
      down = true;
      expect(await manager.resolveConflict(id, 'loser')).toMatchObject({ id, status: 'overridden' });
      expect(logged).toEqual([expect.objectContaining({ code: 'unavailable', message: 'down for maintenance' })]);
      expect(manager.status.error).toMatchObject({ code: 'unavailable' });
    });

    it('a log that throws fails nothing: the decision still stands and is answered', async () => {
      const { server, a, b } = await twoBranches();
      const id = await conflictingEdits(a, b);
      let down = false;
      const manager = await replica({
        fetch: async (input, init) =>
          down && String(input).includes('/v1/pull')
            ? Response.json({ code: 'unavailable', message: 'down for maintenance' }, { status: 503 })
            : server.app.request(input as string, init),
        log: () => {
          throw new Error('a broken log');
        },
      });
      await manager.sync();
      down = true;
      expect(await manager.resolveConflict(id, 'loser')).toMatchObject({ id, status: 'overridden' });
    });
  });

  describe('resolvers end to end', () => {
    const catalogue = defineSchema({
      version: 1,
      tables: { products: { columns: { name: 'string', price: 'number', updatedAt: 'date' } } },
    });

    it.each([
      ['the later edit reaches the server first', 'later-first'],
      ['the earlier edit reaches the server first', 'earlier-first'],
    ])("laterWins('updatedAt'): the later edit wins on every replica when %s", async (_name, order) => {
      const server = start({
        schema: catalogue,
        resolvers: { tables: { products: { row: laterWins('updatedAt') } } },
      });
      const [a, b] = [await replica(), await replica()];
      await a.db.table('products').add({ id: 'p1', name: 'Hammer', price: 10, updatedAt: '2024-01-01T00:00:00Z' });
      await a.sync();
      await b.sync();
      await a.db.table('products').update('p1', { price: 12, updatedAt: '2024-03-01T09:00:00Z' });
      await b.db.table('products').update('p1', { price: 11, updatedAt: '2024-02-01T09:00:00Z' });
      const [first, second] = order === 'later-first' ? [a, b] : [b, a];
      await first.sync();
      await second.sync();
      await first.sync();
      for (const r of [a, b]) expect(await r.db.table('products').get('p1')).toMatchObject({ price: 12 });
      const [logged] = (await server.conflicts()).conflicts;
      expect(logged).toMatchObject({ resolver: 'laterWins(updatedAt)', winningValues: { price: 12 } });
      await expectConverged(server, a, b);
    });

    it('a high-priority replica that syncs after a low-priority one still wins, and a later low-priority edit does not overwrite it', async () => {
      // The priority comes from the replica's identity at registration: here, its bearer token.
      const server = start({
        replicaPriority: ({ request }) => (request.headers.get('authorization') === 'Bearer head-office' ? 90 : 10),
      });
      const hq = await replica({ token: 'head-office' });
      const shop = await replica({ token: 'shop' });
      await hq.db.table('notes').add({ id: 'n1', title: 'draft' });
      await hq.sync();
      await shop.sync();

      await shop.db.table('notes').update('n1', { title: 'from the shop' });
      await hq.db.table('notes').update('n1', { title: 'from head office' });
      await shop.sync();
      await hq.sync();
      await shop.sync();
      for (const r of [hq, shop])
        expect(await r.db.table('notes').get('n1')).toMatchObject({ title: 'from head office' });

      // Both edit again; now head office reaches the server first and the shop's later upload loses.
      await shop.db.table('notes').update('n1', { title: 'shop again' });
      await hq.db.table('notes').update('n1', { title: 'head office again' });
      await hq.sync();
      await shop.sync();
      await hq.sync();
      await expectConverged(server, hq, shop);
      expect((await serverRows(server)).notes!.n1).toMatchObject({ title: 'head office again' });
      const logged = (await server.conflicts()).conflicts.map((c) => ({ winner: c.winner, loser: c.loser }));
      expect(logged).toHaveLength(2);
      expect(logged[1]).toEqual(logged[0]);
      expect(logged[0]!.winner).not.toBe(logged[0]!.loser);
    });
  });
});
