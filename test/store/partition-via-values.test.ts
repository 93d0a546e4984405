import { describe, expect, it } from 'vitest';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { partitionSchema, partitions } from '../support/partition-schema';
import { bearerClient } from '../support/bearer-client';
import type { TestServer } from '../support/test-server';
import { TOKEN_SECRET, tokenFor } from '../support/tokens';

const { each, start } = useStoreWorld();

/** A registered caller with a token of `subject` and `claims`. */
async function client(server: TestServer, subject: string, claims: Record<string, unknown>) {
  const caller = bearerClient(server, await tokenFor(subject, claims));
  await caller.register();
  return caller;
}

describe.each(storeKinds)('$name store: parent references no rowguid can be', (kind) => {
  each(kind);
  const serve = () =>
    start({
      schema: partitionSchema,
      auth: { secret: TOKEN_SECRET },
      partitions,
      log: (error) => {
        throw error;
      },
    });

  it('a line whose orderId holds U+0000 is stored under no partition, never a 500', async () => {
    const server = serve();
    const hq = await client(server, 'hq', { branch: '*', regions: '*' });
    const pushed = await hq.push([{ table: 'lines', rowguid: 'l-nul', values: { orderId: 'o\u0000x', qty: 1 } }]);
    expect(pushed.status).toBe(200);
  });

  it('U+0000 in a column of a table without a filter is stored as on any server', async () => {
    const server = serve();
    const hq = await client(server, 'hq', { branch: '*', regions: '*' });
    const pushed = await hq.push([{ table: 'products', rowguid: 'p-nul', values: { name: 'a\u0000b', price: 1 } }]);
    expect(pushed.status).toBe(200);
  });

  it('a line whose orderId has a lone surrogate is refused for its value, on every store alike', async () => {
    const server = serve();
    const hq = await client(server, 'hq', { branch: '*', regions: '*' });
    await hq.push([{ table: 'orders', rowguid: 'o\uFFFDx', values: { region: 'north', note: 'n' } }]);
    const north = await client(server, 'north', { branch: 'A', regions: ['north'] });
    const pushed = await north.push([{ table: 'lines', rowguid: 'l-sur', values: { orderId: 'o\uD800x', qty: 1 } }]);
    expect(pushed.status).toBe(200);
    expect(pushed.body.results[0]).toMatchObject({ outcome: 'rejected', deleted: true, values: null });
    const page = await north.pull();
    expect(page.status).toBe(200);
    expect(page.body.changes.map((change) => change.rowguid)).toEqual(['o\uFFFDx']);
  });
});
