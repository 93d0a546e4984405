import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '@concord/server';
import { partitionSchema, partitions } from '../support/partition-schema';
import { bearerClient as as } from '../support/bearer-client';
import { useTestWorld } from '../support/test-world';
import { TOKEN_SECRET, tokenFor } from '../support/tokens';

const world = useTestWorld();
const auth = { secret: TOKEN_SECRET };

const stores = [
  ['sqlite', () => ({})],
  ['memory', () => ({ store: createMemoryStore() })],
] as const;

describe.each(stores)('hostile requests against partitions (%s)', (_name, storeOf) => {
  const start = () =>
    world.start({
      schema: partitionSchema,
      auth,
      partitions,
      log: (error) => {
        throw error;
      },
      ...storeOf(),
    });

  async function seeded() {
    const server = start();
    const hq = as(server, await tokenFor('hq', { branch: '*', regions: '*' }));
    await hq.register();
    const seed = await hq.push([
      { table: 'stock', rowguid: 's-b', values: { branchId: 'B', sku: 'SECRET-SKU', qty: 42 } },
      { table: 'orders', rowguid: 'o-south', values: { region: 'south', note: 'SECRET-NOTE' } },
    ]);
    expect(seed.status).toBe(200);
    const shop = as(server, await tokenFor('shop-a', { branch: 'A', regions: ['north'] }));
    await shop.register();
    return { server, hq, shop };
  }

  it('a refused change to a row outside the partition never shows the row, in the answer or in its own conflict entry', async () => {
    const { shop } = await seeded();
    // An upsert with no values and a base naming an unknown column: refused for its schema, before the partition check.
    const whole = await shop.push([{ table: 'stock', rowguid: 's-b', values: {}, base: { nope: 1 } }]);
    // An upsert with an invalid value: the named columns of the hidden row are logged as the winner.
    const some = await shop.push([{ table: 'orders', rowguid: 'o-south', values: { note: 5, region: 'x' } }]);
    expect(whole.status).toBe(200);
    expect(some.status).toBe(200);
    expect(JSON.stringify([whole.body, some.body])).not.toMatch(/SECRET/); // the answers hide the rows...
    const listed = await shop.conflicts();
    // ...and so do the shop's own conflict entries.
    expect(JSON.stringify(listed)).not.toMatch(/SECRET/);
  });

  it('settling its own refused entry cannot write a row outside the partition, nor move it in', async () => {
    const { shop } = await seeded();
    const refused = await shop.push([{ table: 'stock', rowguid: 's-b', values: { qty: 0 } }]);
    expect(refused.body.results[0]).toMatchObject({ outcome: 'rejected', deleted: true });
    const [entry] = await shop.conflicts();
    expect(entry).toMatchObject({ resolver: 'partition', rowguid: 's-b' });
    // The refusal is the shop's own upload, so the shop may settle it: with values that move the row in.
    const decided = await shop.resolve(entry!.id, { values: { branchId: 'A' } });
    expect(decided.status).toBe(403);
    const page = await shop.pull();
    expect(JSON.stringify(page.body.changes)).not.toMatch(/SECRET/);
    // Confirming the refusal writes nothing, and tells nothing of the row, not even its generation.
    const confirmed = await shop.resolve(entry!.id, 'winner');
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({ generation: 0, conflict: { status: 'resolved' } });
  });

  it('settling its own refused entry cannot overwrite a row of another partition, even where rows may move out', async () => {
    const { server, shop } = await seeded();
    const created = await shop.push([{ table: 'orders', rowguid: 'o-n', values: { region: 'north', note: 'n' } }]);
    expect(created.body.results[0]!.outcome).toBe('applied');
    // The shop tries to write o-south: refused, logged under its upload.
    await shop.push([{ table: 'orders', rowguid: 'o-south', values: { note: 'shop was here' } }]);
    const [entry] = await shop.conflicts();
    // 'loser' lays the refused values over o-south, which is and stays in the south.
    const decided = await shop.resolve(entry!.id, 'loser');
    expect(decided.status).toBe(403);
    const south = as(server, await tokenFor('south', { branch: 'B', regions: ['south'] }));
    await south.register();
    const row = (await south.pull()).body.changes.find((change) => change.rowguid === 'o-south');
    expect(row?.values).toMatchObject({ note: 'SECRET-NOTE' });
  });

  it('a claim listing hundreds of values is read as one query: the pull works', async () => {
    const server = start();
    const regions = Array.from({ length: 600 }, (_, i) => `r${i}`);
    const big = as(server, await tokenFor('big', { branch: 'A', regions }));
    await big.register();
    await big.push([{ table: 'orders', rowguid: 'o1', values: { region: 'r599', note: 'x' } }]);
    const hq = as(server, await tokenFor('hq', { branch: '*', regions: '*' }));
    await hq.register();
    await hq.push([{ table: 'orders', rowguid: 'o2', values: { region: 'r3', note: 'y' } }]);
    const page = await big.pull();
    expect(page.status).toBe(200);
    expect(page.body.changes.map((change) => change.rowguid)).toEqual(['o2']);
  });
});
