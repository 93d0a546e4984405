import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { PROTOCOL_VERSION, type FromServerConflicts } from '@concord/shared';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { partitionSchema, partitions, partitionRows } from '../support/partition-schema';
import { replicaRows, replicaState, serverRows } from '../support/test-replica';
import type { TestServer } from '../support/test-server';
import { TOKEN_SECRET, expiredToken, tokenFor } from '../support/tokens';

const { each, start, replica } = useStoreWorld();

type Claims = Record<string, unknown>;

const BRANCH_A: Claims = { branch: 'A', regions: ['X'] };
const BRANCH_B: Claims = { branch: 'B', regions: ['Y', 'Z'] };
const HQ: Claims = { branch: '*', regions: '*', role: 'reviewer' };

/** Asserts that a replica holds exactly the server's rows its claims see, and nothing pending. */
async function expectPartition(server: TestServer, device: Replica, claims: Claims) {
  expect(await replicaRows(device, server)).toEqual(partitionRows(await serverRows(server), claims));
  expect(await device.db.table('_changes').count()).toBe(0);
}

describe.each(storeKinds)('$name store', (kind) => {
  each(kind);

  describe('partitions', () => {
    const serve = () =>
      start({
        schema: partitionSchema,
        auth: { secret: TOKEN_SECRET },
        partitions,
        reviewer: (identity) => identity.claims.role === 'reviewer',
      });
    const device = (subject: string, claims: Claims) => replica({ token: () => tokenFor(subject, claims) });
    const listConflicts = async (server: TestServer, subject: string, claims: Claims, query = '') => {
      const token = await tokenFor(subject, claims);
      const response = await server.request(`/v1/conflicts${query}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return ((await response.json()) as FromServerConflicts).conflicts;
    };

    /** HQ's catalogue: products for all, stock for A and B, orders in X and Y with their lines. */
    async function seed(hq: Replica) {
      await hq.db.table('products').bulkAdd([
        { id: 'p1', name: 'tea', price: 4 },
        { id: 'p2', name: 'cake', price: 3 },
      ]);
      await hq.db.table('stock').bulkAdd([
        { id: 's1', branchId: 'A', sku: 'p1', qty: 5 },
        { id: 's2', branchId: 'A', sku: 'p2', qty: 1 },
        { id: 's3', branchId: 'B', sku: 'p1', qty: 7 },
      ]);
      await hq.db.table('orders').bulkAdd([
        { id: 'o1', region: 'X', note: 'first' },
        { id: 'o2', region: 'Y', note: 'second' },
      ]);
      await hq.db.table('lines').bulkAdd([
        { id: 'l1', orderId: 'o1', qty: 1 },
        { id: 'l2', orderId: 'o1', qty: 2 },
        { id: 'l3', orderId: 'o2', qty: 3 },
      ]);
      await hq.sync();
    }

    /** HQ with the catalogue seeded, and a device of each branch, synced. */
    async function company() {
      const hq = await device('hq', HQ);
      await seed(hq);
      const a = await device('shop-a', BRANCH_A);
      const b = await device('shop-b', BRANCH_B);
      await a.sync();
      await b.sync();
      return { hq, a, b };
    }

    it('each branch downloads only its partition and the shared tables; HQ downloads everything', async () => {
      const server = serve();
      const { hq, a, b } = await company();
      expect((await a.db.table('stock').toArray()).map((row: { id: string }) => row.id).sort()).toEqual(['s1', 's2']);
      expect(await a.db.table('lines').count()).toBe(2);
      await expectPartition(server, a, BRANCH_A);
      await expectPartition(server, b, BRANCH_B);
      await expectPartition(server, hq, HQ);
    });

    it('a write outside the partition is rejected, logged with its reason, and the writer drops its copy', async () => {
      const server = serve();
      const hq = await device('hq', HQ);
      await seed(hq);
      const a = await device('shop-a', BRANCH_A);
      await a.sync();
      await a.db.table('stock').add({ id: 's9', branchId: 'B', sku: 'p2', qty: 50 });
      await a.db.table('stock').update('s1', { branchId: 'B' }); // moving out is not allowed for stock
      await a.db.table('lines').add({ id: 'l9', orderId: 'o2', qty: 9 }); // an order of region Y
      expect(await a.sync()).toMatchObject({ rejected: 3 });
      await expectPartition(server, a, BRANCH_A);
      expect((await serverRows(server)).stock!.s9).toBeUndefined();
      expect((await serverRows(server)).stock!.s1).toMatchObject({ branchId: 'A' });

      const own = await listConflicts(server, 'shop-a', BRANCH_A);
      expect(own.map((entry) => [entry.rowguid, entry.resolver, entry.type]).sort()).toEqual([
        ['l9', 'partition', 'failed-change'],
        ['s1', 'partition', 'failed-change'],
        ['s9', 'partition', 'failed-change'],
      ]);
      expect(own.find((entry) => entry.rowguid === 's9')!.reason).toMatch(/outside this replica's partition/);
      // Branch B sees no entry about A's uploads; HQ, the reviewer, sees them all.
      expect(await listConflicts(server, 'shop-b', BRANCH_B)).toEqual([]);
      expect(await listConflicts(server, 'hq', HQ)).toHaveLength(3);
    });

    it('a row moving between branches leaves one replica and appears on the other, its children with it', async () => {
      const server = serve();
      const { hq, a, b } = await company();
      await hq.db.table('stock').update('s1', { branchId: 'B' });
      await hq.db.table('orders').update('o1', { region: 'Y' });
      await hq.sync();
      await a.sync();
      await b.sync();
      expect(await a.db.table('stock').get('s1')).toBeUndefined();
      expect(await a.db.table('lines').count()).toBe(0);
      expect(await b.db.table('stock').get('s1')).toMatchObject({ branchId: 'B', qty: 5 });
      expect((await b.db.table('lines').toArray()).length).toBe(3);
      await expectPartition(server, a, BRANCH_A);
      await expectPartition(server, b, BRANCH_B);
      // The row lives on: a removal is not a delete.
      expect((await serverRows(server)).lines!.l1).toMatchObject({ orderId: 'o1' });
    });

    it('a replica offline during several moves converges to exactly its partition', async () => {
      const server = serve();
      const { hq, a, b } = await company();
      const moves: [string, string, Record<string, string>][] = [
        ['stock', 's1', { branchId: 'B' }],
        ['stock', 's3', { branchId: 'A' }],
        ['orders', 'o2', { region: 'X' }],
        ['stock', 's1', { branchId: 'A' }],
        ['stock', 's2', { branchId: 'C' }],
        ['orders', 'o1', { region: 'Z' }],
        ['orders', 'o2', { region: 'Y' }],
        ['orders', 'o2', { region: 'X' }],
      ];
      for (const [table, id, change] of moves) {
        await hq.db.table(table).update(id, change);
        await hq.sync();
      }
      await hq.db.table('lines').add({ id: 'l4', orderId: 'o2', qty: 4 });
      await hq.sync();
      await a.sync();
      await b.sync();
      await expectPartition(server, a, BRANCH_A);
      await expectPartition(server, b, BRANCH_B);
      expect((await a.db.table('lines').toArray()).map((row: { id: string }) => row.id).sort()).toEqual(['l3', 'l4']);
    });

    it('moving an order out of a region is allowed where the table says so: the mover drops it and its lines', async () => {
      const server = serve();
      const { a, b } = await company();
      await a.db.table('orders').update('o1', { region: 'Y' });
      expect(await a.sync()).toMatchObject({ rejected: 0 });
      await b.sync();
      await expectPartition(server, a, BRANCH_A);
      await expectPartition(server, b, BRANCH_B);
      expect(await b.db.table('lines').count()).toBe(3);
    });

    it('a conflict outside the partition cannot be listed or settled; the reviewer does both', async () => {
      const server = serve();
      const hq = await device('hq', HQ);
      await seed(hq);
      const b = await device('shop-b', BRANCH_B);
      const b2 = await device('shop-b2', BRANCH_B);
      await b.sync();
      await b2.sync();
      await b.db.table('stock').update('s3', { qty: 1 });
      await b2.db.table('stock').update('s3', { qty: 2 });
      await b.sync();
      await b2.sync();
      const [entry] = await listConflicts(server, 'shop-b', BRANCH_B);
      expect(entry).toMatchObject({ rowguid: 's3' });
      expect(await listConflicts(server, 'shop-a', BRANCH_A)).toEqual([]);
      // A forged filter narrows, never widens.
      expect(await listConflicts(server, 'shop-a', BRANCH_A, `?replicaId=${entry!.replicaId}`)).toEqual([]);

      const settle = async (subject: string, claims: Claims) =>
        server.request(`/v1/conflicts/${entry!.id}/resolve`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(subject, claims)}` },
          body: JSON.stringify({ protocol: PROTOCOL_VERSION, choice: 'loser' }),
        });
      const refused = await settle('shop-a', BRANCH_A);
      expect(refused.status).toBe(404);
      expect((await serverRows(server)).stock!.s3).toMatchObject({ qty: 1 });
      expect((await settle('hq', HQ)).status).toBe(200);
      expect((await serverRows(server)).stock!.s3).toMatchObject({ qty: 2 });
    });

    it('when the claims of its identity change between syncs, a replica downloads its new partition and drops the old', async () => {
      const server = serve();
      const hq = await device('hq', HQ);
      await seed(hq);
      let claims: Claims = BRANCH_A;
      const a = await replica({ token: () => tokenFor('shop-a', claims) });
      await a.sync();
      await a.db.table('stock').update('s1', { qty: 9 }); // pending when the claims change
      await a.db.table('orders').update('o1', { note: 'kept' }); // in a region the device keeps
      claims = { branch: 'B', regions: ['X', 'Y'] };
      await a.sync();
      await expectPartition(server, a, claims);
      expect((await serverRows(server)).orders!.o1).toMatchObject({ note: 'kept' });
      // The edit to a row of its old branch was refused and logged, not silently applied or lost.
      expect(await listConflicts(server, 'shop-a', claims)).toEqual([
        expect.objectContaining({ rowguid: 's1', resolver: 'partition', losingValues: { qty: 9 } }),
      ]);
      // Back to the first partition: again exactly it.
      claims = BRANCH_A;
      await a.sync();
      await expectPartition(server, a, claims);
    });

    it('when the filters change, the rows are stamped again and every replica downloads its partition afresh', async () => {
      let server = start({ schema: partitionSchema, auth: { secret: TOKEN_SECRET } });
      // Devices talk to whichever server runs now, on the same database.
      const fetch = (input: RequestInfo | URL, init?: RequestInit) =>
        Promise.resolve(server.app.request(input as string, init));
      const hq = await replica({ token: () => tokenFor('hq', HQ), fetch });
      await seed(hq);
      const a = await replica({ token: () => tokenFor('shop-a', BRANCH_A), fetch });
      await a.sync();
      expect(await a.db.table('stock').count()).toBe(3); // no filters yet: every row
      await server.close();

      server = serve();
      await a.sync();
      await expectPartition(server, a, BRANCH_A);
      await server.close();

      // Lines no longer follow their orders: they go to everyone.
      const rest = Object.fromEntries(Object.entries(partitions).filter(([table]) => table !== 'lines'));
      server = start({ schema: partitionSchema, auth: { secret: TOKEN_SECRET }, partitions: rest });
      await a.sync();
      expect(await a.db.table('lines').count()).toBe(3);
      expect(await a.db.table('stock').count()).toBe(2);
      await hq.sync();
      expect(await replicaRows(hq, server)).toEqual(await serverRows(server));
      await server.close();

      // No filters at all: every replica downloads every row again.
      server = start({ schema: partitionSchema, auth: { secret: TOKEN_SECRET } });
      await a.sync();
      expect(await replicaRows(a, server)).toEqual(await serverRows(server));
    });

    it('an expired or wrongly signed token, or a replica used with the token of another branch, receives nothing', async () => {
      const server = serve();
      const hq = await device('hq', HQ);
      await seed(hq);
      const a = await device('shop-a', BRANCH_A);
      await a.sync();
      const { replicaId, secret } = (await replicaState(a)) as { replicaId: string; secret: string };
      const pull = async (token: string) => {
        const response = await server.request('/v1/pull', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: 1, replicaId, secret, after: 0 }),
        });
        return { status: response.status, body: JSON.stringify(await response.json()) };
      };
      const refusals = [
        await pull(await expiredToken('shop-a')),
        await pull(await tokenFor('shop-a', BRANCH_A, 'another-secret-of-enough-length-for-hs256')),
        await pull(await tokenFor('shop-b', BRANCH_B)),
      ];
      expect(refusals.map((refusal) => refusal.status)).toEqual([401, 401, 403]);
      for (const refusal of refusals) expect(refusal.body).not.toMatch(/"changes"|branchId/);
      expect((await pull(await tokenFor('shop-a', BRANCH_A))).status).toBe(200);
    });

    it('without auth, partitions are refused at startup', () => {
      expect(() => start({ schema: partitionSchema, partitions })).toThrow(/partitions need auth/);
    });
  });
});
