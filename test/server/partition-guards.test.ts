import { describe, expect, it } from 'vitest';
import { defineSchema, type FromServerPull, type FromServerPush } from '@concord/shared';
import { createMemoryDatabase, createMemoryStore, createSyncServer, type PartitionConfig } from '@concord/server';
import { partitionSchema, partitions } from '../support/partition-schema';
import { bearerClient } from '../support/bearer-client';
import type { TestServer } from '../support/test-server';
import { useTestWorld } from '../support/test-world';
import { TOKEN_SECRET, tokenFor } from '../support/tokens';

const world = useTestWorld();

const auth = { secret: TOKEN_SECRET };

const as = bearerClient;

describe('partition configuration', () => {
  const create = (config: PartitionConfig) =>
    createSyncServer({ schema: partitionSchema, store: createMemoryStore(), auth, partitions: config });

  it.each([
    [{ nope: { column: 'branchId', claim: 'branch' } }, /unknown table "nope"/],
    [{ stock: { column: 'nope', claim: 'branch' } }, /unknown column "nope"/],
    [{ stock: { column: 'branchId', claim: '' } }, /claim must name a token claim/],
    [{ lines: { parent: 'orders', via: 'orderId' } }, /parent "orders" is not a table with a filter/],
    [{ lines: { parent: 'constructor', via: 'orderId' } }, /parent "constructor" is not a table with a filter/],
    [{ orders: { parent: 'lines', via: 'note' }, lines: { parent: 'orders', via: 'orderId' } }, /parents form a cycle/],
  ] as [PartitionConfig, RegExp][])('refuses %j at startup', (config, message) => {
    expect(() => create(config)).toThrow(message);
  });

  it('a grandchild follows its grandparent both ways when the grandparent moves', async () => {
    const schema = defineSchema({
      version: 1,
      tables: {
        a: { columns: { region: 'string' } },
        b: { columns: { aId: 'string' } },
        c: { columns: { bId: 'string' } },
      },
    });
    const config: PartitionConfig = {
      a: { column: 'region', claim: 'region' },
      b: { parent: 'a', via: 'aId' },
      c: { parent: 'b', via: 'bId' },
    };
    const server = world.start({ schema, auth, partitions: config, log: () => undefined });
    const hq = as(server, await tokenFor('hq', { region: '*' }));
    await hq.register();
    await hq.push([
      { table: 'a', rowguid: 'a1', values: { region: 'X' } },
      { table: 'b', rowguid: 'b1', values: { aId: 'a1' } },
      { table: 'c', rowguid: 'c1', values: { bId: 'b1' } },
    ]);
    const x = as(server, await tokenFor('x', { region: 'X' }));
    const y = as(server, await tokenFor('y', { region: 'Y' }));
    await x.register();
    await y.register();
    const before = (await x.pull()).body;
    expect(before.changes.map((change) => change.rowguid)).toEqual(['a1', 'b1', 'c1']);
    expect((await y.pull()).body.changes).toEqual([]);
    await hq.push([{ table: 'a', rowguid: 'a1', values: { region: 'Y' }, baseGeneration: 1 }]);
    const removed = (await x.pull(before.cursor)).body.changes;
    expect(removed.map((change) => [change.rowguid, change.removed])).toEqual([
      ['a1', true],
      ['b1', true],
      ['c1', true],
    ]);
    expect((await y.pull()).body.changes.map((change) => change.rowguid).sort()).toEqual(['a1', 'b1', 'c1']);
  });
});

describe('a partitioned server and what arrives', () => {
  const start = () => world.start({ schema: partitionSchema, auth, partitions, log: () => undefined });

  const registered = (server: TestServer, token: string) => as(server, token).register();

  it('a request field can never widen a partition: fields naming one are refused, and claims come only from the token', async () => {
    const server = start();
    const hq = await tokenFor('hq', { branch: '*', regions: '*' });
    const shop = await tokenFor('shop-a', { branch: 'A', regions: [] });
    const writer = await registered(server, hq);
    const push = await as(server, hq).post('/v1/push', {
      replicaId: writer.replicaId,
      secret: writer.secret,
      fromLocalGeneration: 1,
      toLocalGeneration: 2,
      changes: [
        {
          table: 'stock',
          rowguid: 's-a',
          op: 'upsert',
          values: { branchId: 'A' },
          baseGeneration: 0,
          localGeneration: 1,
        },
        {
          table: 'stock',
          rowguid: 's-b',
          op: 'upsert',
          values: { branchId: 'B' },
          baseGeneration: 0,
          localGeneration: 2,
        },
      ],
    });
    expect(push.status).toBe(200);

    const reader = await registered(server, shop);
    const pull = (extra: object) =>
      as(server, shop).post('/v1/pull', { replicaId: reader.replicaId, secret: reader.secret, after: 0, ...extra });
    for (const forged of [{ branch: 'B' }, { claims: { branch: '*' } }, { view: { parts: [], whole: ['stock'] } }]) {
      const refused = await pull(forged);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ code: 'bad_request' });
    }
    for (const forged of ['?branch=B', '?scope=all&claims=*']) {
      expect((await as(server, shop).get(`/v1/conflicts${forged}`)).status).toBe(400);
    }
    const page = (await (await pull({})).json()) as FromServerPull;
    expect(page.changes.map((change) => change.rowguid)).toEqual(['s-a']);
    // The HQ replica's id with the shop's token: refused, whatever the secret.
    const stolen = await as(server, shop).post('/v1/pull', {
      replicaId: writer.replicaId,
      secret: writer.secret,
      after: 0,
    });
    expect(stolen.status).toBe(403);
  });

  it('an event stream pokes with a generation only: never a row, a table or a partition', async () => {
    const server = start();
    const shop = await tokenFor('shop-a', { branch: 'A', regions: [] });
    const hq = await tokenFor('hq', { branch: '*', regions: '*' });
    const abort = new AbortController();
    const stream = await as(server, shop).get('/v1/events', abort.signal);
    const reader = stream.body!.getReader();
    const writer = await registered(server, hq);
    await as(server, hq).post('/v1/push', {
      replicaId: writer.replicaId,
      secret: writer.secret,
      fromLocalGeneration: 1,
      toLocalGeneration: 1,
      changes: [
        {
          table: 'stock',
          rowguid: 'secret-row',
          op: 'upsert',
          values: { branchId: 'B', sku: 'secret-sku' },
          baseGeneration: 0,
          localGeneration: 1,
        },
      ],
    });
    let text = '';
    while (!text.includes('event: poke')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    const pokes = text.split('\n').filter((line) => line.startsWith('data: {"generation"'));
    expect(pokes.length).toBeGreaterThan(0);
    expect(text).not.toMatch(/secret|stock|branch|"B"/);
  });

  it('deleting a row that is not there writes nothing anyone sees: no refusal, whatever the partition', async () => {
    const server = start();
    const shop = await tokenFor('shop-a', { branch: 'A', regions: [] });
    const device = await registered(server, shop);
    const response = await as(server, shop).post('/v1/push', {
      replicaId: device.replicaId,
      secret: device.secret,
      fromLocalGeneration: 1,
      toLocalGeneration: 1,
      changes: [{ table: 'stock', rowguid: 'never-there', op: 'delete', baseGeneration: 0, localGeneration: 1 }],
    });
    expect(((await response.json()) as FromServerPush).results[0]).toMatchObject({ outcome: 'applied' });
  });

  it('a server whose filters differ from those the rows are stamped for serves nothing: 503', async () => {
    const database = createMemoryDatabase();
    const open = (config?: PartitionConfig) =>
      world.start({ schema: partitionSchema, auth, partitions: config, store: createMemoryStore({ database }) });
    const before = open(partitions);
    const hq = as(before, await tokenFor('hq', { branch: '*', regions: '*' }));
    await hq.register();
    expect((await hq.pull()).status).toBe(200);
    // Another process, started with other filters, stamps the rows for its own.
    const other = open({ stock: { column: 'sku', claim: 'branch' } });
    await as(other, await tokenFor('hq', { branch: '*' })).register();
    const pulled = await hq.pull();
    expect([pulled.status, pulled.body.code]).toEqual([503, 'unavailable']);
    expect((await hq.push([{ table: 'products', rowguid: 'p1', values: { name: 'n' } }])).status).toBe(503);
  });

  it('the order of keys and moveOut do not change the filters: no row is stamped again, no replica downloads again', async () => {
    const database = createMemoryDatabase();
    const open = (config: PartitionConfig) =>
      world.start({ schema: partitionSchema, auth, partitions: config, store: createMemoryStore({ database }) });
    let server = open(partitions);
    const hq = as(server, await tokenFor('hq', { branch: '*', regions: '*' }));
    await hq.register();
    await hq.push([{ table: 'stock', rowguid: 's1', values: { branchId: 'A' } }]);
    const shop = await tokenFor('shop-a', { branch: 'A', regions: ['X'] });
    const device = as(server, shop);
    await device.register();
    const first = await device.pull();
    expect(first.body.cursor).toBeGreaterThan(0);
    await server.close();
    server = open({
      stock: { claim: 'branch', column: 'branchId' },
      orders: { column: 'region', claim: 'regions' },
      lines: { via: 'orderId', parent: 'orders' },
    });
    const again = await as(server, shop).post('/v1/pull', {
      replicaId: device.replica!.replicaId,
      secret: device.replica!.secret,
      after: first.body.cursor,
      commit: first.body.commit,
    });
    expect(again.status).toBe(200);
  });
});
