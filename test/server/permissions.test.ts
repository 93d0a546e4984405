import { describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  type FromReplicaChange,
  type FromServerConflicts,
  type FromServerPush,
  type FromServerRegister,
} from '@concord/shared';
import { additive, createSyncServer, type PermissionConfig } from '@concord/server';
import { remove, testSchema, upsert, type TestServer } from '../support/test-server';
import { expectConverged } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';
import { TOKEN_SECRET, tokenFor } from '../support/tokens';

const world = useTestWorld();

/** Stock counts may be changed by anyone; prices only by HQ; nobody deletes stock; notes are read-only. */
const permissions: PermissionConfig = {
  stock: {
    update: ({ identity, row, stored }) => identity?.claims.role === 'hq' || row.price === stored?.price,
    delete: false,
  },
  notes: { insert: false, update: false, delete: false },
};

/** A replica registered with a token for `subject`, pushing with it. */
async function replicaOf(server: TestServer, subject: string, claims: Record<string, unknown>) {
  const token = await tokenFor(subject, claims);
  const post = (path: string, body: object) =>
    server.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: 1, ...body }),
    });
  const { replicaId, secret } = (await (await post('/v1/replicas', {})).json()) as FromServerRegister;
  let generation = 0;
  return {
    token,
    push: async (...changes: FromReplicaChange[]) => {
      const from = generation + 1;
      const stamped = changes.map((change) => ({ ...change, localGeneration: ++generation }));
      const body = { replicaId, secret, fromLocalGeneration: from, toLocalGeneration: generation, changes: stamped };
      const response = await post('/v1/push', body);
      expect(response.status).toBe(200);
      return (await response.json()) as FromServerPush;
    },
  };
}

describe('per-table permissions on upload', () => {
  const start = () => world.start({ auth: { secret: TOKEN_SECRET }, permissions });

  it('a change the identity may not make is rejected on its own, logged, and answered with the row as it stands', async () => {
    const server = start();
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    const shop = await replicaOf(server, 'shop-1', { role: 'branch' });
    await hq.push(upsert('stock', 's1', { sku: 'A', qty: 5, price: 10 }, { gen: 0 }));

    const pushed = await shop.push(
      upsert('stock', 's1', { price: 1 }, { gen: 0, base: 1 }),
      upsert('stock', 's2', { sku: 'B', qty: 1, price: 3 }, { gen: 0 }),
    );
    expect(pushed.results.map((result) => result.outcome)).toEqual(['rejected', 'applied']);
    expect(pushed.results[0]).toMatchObject({
      values: { sku: 'A', qty: 5, price: 10 },
      reason: '"shop-1" may not update rows of "stock"',
    });
    const listed = await server.request('/v1/conflicts', { headers: { authorization: `Bearer ${hq.token}` } });
    const { conflicts } = (await listed.json()) as FromServerConflicts;
    expect(conflicts).toEqual([
      expect.objectContaining({
        type: 'failed-change',
        resolver: 'permission',
        rowguid: 's1',
        losingValues: { price: 1 },
      }),
    ]);

    // A count change keeps the price, which the predicate allows; HQ may change the price.
    expect((await shop.push(upsert('stock', 's1', { qty: 4 }, { gen: 0, base: 1 }))).results[0]!.outcome).toBe(
      'applied',
    );
    expect((await hq.push(upsert('stock', 's1', { price: 12 }, { gen: 0, base: 3 }))).results[0]!.outcome).toBe(
      'applied',
    );
  });

  it('false refuses an action to everyone: inserts, updates and deletes each on their own', async () => {
    const server = start();
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    const refusedInsert = await hq.push(upsert('notes', 'n1', { title: 'x' }, { gen: 0 }));
    expect(refusedInsert.results[0]).toMatchObject({
      outcome: 'rejected',
      reason: '"hq-1" may not insert rows of "notes"',
    });
    await hq.push(upsert('stock', 's1', { sku: 'A', qty: 1, price: 1 }, { gen: 0 }));
    const refusedDelete = await hq.push(remove('stock', 's1', { gen: 0, base: 1 }));
    expect(refusedDelete.results[0]).toMatchObject({ outcome: 'rejected', values: { sku: 'A', qty: 1, price: 1 } });
    expect((await server.store.meta()).generation).toBe(1);
  });

  it('a predicate that throws refuses the change', async () => {
    const server = world.start({
      auth: { secret: TOKEN_SECRET },
      permissions: {
        notes: {
          insert: () => {
            throw new Error('a bug in the predicate');
          },
        },
      },
    });
    const someone = await replicaOf(server, 'u-1', {});
    expect((await someone.push(upsert('notes', 'n1', { title: 'x' }, { gen: 0 }))).results[0]!.outcome).toBe(
      'rejected',
    );
  });

  it('a replica whose write was refused takes the server row back, and nothing stays pending', async () => {
    const server = start();
    const hq = await world.replica({ token: () => tokenFor('hq-1', { role: 'hq' }) });
    await hq.db.table('stock').put({ id: 's1', sku: 'A', qty: 5, price: 10 });
    await hq.sync();
    const shop = await world.replica({ token: () => tokenFor('shop-1', { role: 'branch' }) });
    await shop.sync();
    await shop.db.table('stock').update('s1', { price: 1 });
    const report = await shop.sync();
    expect(report.rejected).toBe(1);
    expect(await shop.db.table('stock').get('s1')).toMatchObject({ price: 10 });
    await expectConverged(server, hq, shop);
  });

  it.each([
    ['an unknown table', { orders: { insert: false } }],
    ['an unknown action', { stock: { read: false } }],
    ['a value that is no permission', { stock: { update: 'hq' } }],
  ])('%s is refused when the server is made', (_name, config) => {
    expect(() =>
      createSyncServer({ schema: testSchema, store: world.start().store, permissions: config as PermissionConfig }),
    ).toThrow(/permissions/);
  });

  it('a predicate judges the row as the merge would store it: a stale base cannot slip a merged value past it', async () => {
    const server = world.start({
      auth: { secret: TOKEN_SECRET },
      resolvers: { tables: { stock: { columns: { qty: additive() } } } },
      permissions: { stock: { update: ({ row }) => typeof row.qty === 'number' && row.qty >= 0 } },
    });
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    const shop = await replicaOf(server, 'shop-1', { role: 'branch' });
    await hq.push(upsert('stock', 's1', { sku: 'A', qty: 10, price: 1 }, { gen: 0 }));
    await hq.push(upsert('stock', 's1', { qty: 2 }, { gen: 0, base: 1 }));
    // Based on qty 10, taking 10 away: merged additively with HQ's change, the count would be -8.
    const stale = await shop.push(upsert('stock', 's1', { qty: 0 }, { gen: 0, base: 1, baseValues: { qty: 10 } }));
    expect(stale.results[0]).toMatchObject({ outcome: 'rejected', values: { qty: 2 } });
    expect((await server.store.changesSince({ after: 0, limit: 10 })).rows[0]!.values).toMatchObject({ qty: 2 });
  });
});

describe('decisions on the conflict log under permissions', () => {
  /** Only a note's owner writes it, and HQ. */
  const owned: PermissionConfig = {
    notes: {
      insert: ({ identity, row }) => row.body === identity?.subject || identity?.claims.role === 'hq',
      update: ({ identity, stored }) => stored?.body === identity?.subject || identity?.claims.role === 'hq',
    },
  };

  it('a decision writing a row the deciding identity may not write is 403 and changes nothing; the subject is recorded, not `by`', async () => {
    const server = world.start({ auth: { secret: TOKEN_SECRET }, permissions: owned });
    const alice = await replicaOf(server, 'alice', {});
    const mallory = await replicaOf(server, 'mallory', {});
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    await alice.push(upsert('notes', 'a1', { title: 'mine', body: 'alice' }, { gen: 0 }));
    const refused = await mallory.push(upsert('notes', 'a1', { title: 'PWNED', body: 'mallory' }, { gen: 0, base: 1 }));
    const conflictId = refused.results[0]!.conflictId!;
    const resolve = (token: string, body: object) =>
      server.request(`/v1/conflicts/${conflictId}/resolve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, ...body }),
      });

    const before = await server.store.changesSince({ after: 0, limit: 10 });
    for (const choice of ['loser', { values: { title: 'PWNED', body: 'mallory' } }]) {
      const response = await resolve(mallory.token, { choice, by: 'alice' });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ code: 'forbidden' });
    }
    expect(await server.store.changesSince({ after: 0, limit: 10 })).toEqual(before);

    const decided = await resolve(hq.token, { choice: { values: { title: 'kept by HQ' } }, by: 'someone else' });
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ conflict: { status: 'overridden', resolvedBy: 'hq-1' } });
  });

  it('a predicate sees frozen copies: one that tries to change the row refuses the change, and nothing it wrote is stored', async () => {
    const server = world.start({
      auth: { secret: TOKEN_SECRET },
      permissions: {
        notes: {
          insert: ({ row }) => {
            (row as Record<string, unknown>).rank = 'not a number';
            return true;
          },
        },
      },
    });
    const someone = await replicaOf(server, 'u-1', {});
    const pushed = await someone.push(upsert('notes', 'n1', { title: 'x' }, { gen: 0 }));
    expect(pushed.results[0]).toMatchObject({
      outcome: 'rejected',
      reason: expect.stringMatching(/permission check failed/),
    });
    expect((await server.store.meta()).generation).toBe(0);
  });

  it('deleting a row the server never held is no write anyone sees: delete: false does not refuse it', async () => {
    const server = world.start({ auth: { secret: TOKEN_SECRET }, permissions });
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    const pushed = await hq.push(remove('stock', 'never-there', { gen: 0, base: 0 }));
    expect(pushed.results[0]!.outcome).not.toBe('rejected');
  });

  it('names and claims from a request reach no prototype: a `__proto__` table is refused for its name, a `__proto__` claim grants nothing', async () => {
    const server = world.start({ auth: { secret: TOKEN_SECRET }, permissions });
    // As it arrives in a token: an own `__proto__` claim, which must not become the identity's prototype.
    const claims = JSON.parse('{"__proto__": {"role": "hq"}}') as Record<string, unknown>;
    const forger = await replicaOf(server, 'forger', claims);
    const hq = await replicaOf(server, 'hq-1', { role: 'hq' });
    await hq.push(upsert('stock', 's1', { sku: 'A', qty: 5, price: 10 }, { gen: 0 }));
    const before = await server.store.changesSince({ after: 0, limit: 10 });

    const pushed = await forger.push(
      upsert('__proto__', 'p1', { title: 'x' }, { gen: 0 }),
      upsert('constructor', 'c1', { title: 'x' }, { gen: 0 }),
      upsert('stock', 's1', { price: 1 }, { gen: 0, base: 1 }),
    );
    expect(pushed.results.map((result) => result.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(pushed.results[2]!.reason).toBe('"forger" may not update rows of "stock"');
    expect(await server.store.changesSince({ after: 0, limit: 10 })).toEqual(before);
  });
});
