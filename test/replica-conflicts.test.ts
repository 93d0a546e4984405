import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { additive, manual } from '@concord/server';
import { storeKinds, type StoreLocation } from './support/store-fixtures';
import { createTestServer, type TestServer } from './support/test-server';
import { expectConverged, openTestReplica } from './support/test-replica';

let server: TestServer;
let location: StoreLocation;
const open: Replica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  await server?.close();
  await location.dispose();
});

/** Two replicas sharing one stock row, with manual() on price and additive() on qty. */
async function twoBranches(): Promise<[Replica, Replica]> {
  server = createTestServer({
    store: location.open(),
    resolvers: { tables: { stock: { columns: { price: manual(), qty: additive() } } } },
  });
  const a = await openTestReplica(server);
  const b = await openTestReplica(server);
  open.push(a, b);
  await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 10, price: 5 });
  await a.sync();
  await b.sync();
  return [a, b];
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
  beforeEach(async () => {
    location = await kind.create();
  });

  describe('manual review from the replica', () => {
    it('a manual conflict keeps the server version, stays open, and both replicas see it; additive merges the counter', async () => {
      const [a, b] = await twoBranches();
      await conflictingEdits(a, b);
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ qty: 11, price: 6 });
      expect((await a.conflicts({ status: 'open' })).map((c) => c.columns)).toEqual([['price']]);
      await expectConverged(server, a, b);
    });

    it('taking the loser applies it as a new change that replicates to every replica and marks the entry overridden', async () => {
      const [a, b] = await twoBranches();
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
      const [a, b] = await twoBranches();
      const id = await conflictingEdits(a, b);
      await a.resolveConflict(id, { price: 6.5 });
      await b.sync();
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ price: 6.5, qty: 11 });
      await expectConverged(server, a, b);
    });

    it('confirming the winner closes the conflict and keeps the value', async () => {
      const [a, b] = await twoBranches();
      const id = await conflictingEdits(a, b);
      expect(await b.resolveConflict(id, 'winner')).toMatchObject({ status: 'resolved' });
      await a.sync();
      for (const r of [a, b]) expect(await r.db.table('stock').get('s1')).toMatchObject({ price: 6 });
      expect(await b.conflicts({ status: 'open' })).toEqual([]);
      await expectConverged(server, a, b);
    });

    it('a refused decision changes nothing and surfaces the server error', async () => {
      const [a, b] = await twoBranches();
      const id = await conflictingEdits(a, b);
      await expect(a.resolveConflict(id, { price: 'cheap' })).rejects.toMatchObject({ code: 'invalid_value' });
      await expect(a.resolveConflict('no-such-conflict', 'loser')).rejects.toMatchObject({ code: 'not_found' });
      expect((await a.conflicts({ status: 'open' })).map((c) => c.id)).toEqual([id]);
    });
  });
});
