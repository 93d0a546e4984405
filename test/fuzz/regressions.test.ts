import { afterEach, describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { createTestServer, type TestServer } from '../support/test-server';
import { expectConverged, openTestReplica, serverRows, type TestReplicaOptions } from '../support/test-replica';

/** Regressions found by the seeded fuzz harness (test/fuzz/harness.ts), each reduced by hand. */

let server: TestServer;
const open: Replica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  await server?.close();
});
const replica = async (options: TestReplicaOptions = {}) => {
  const opened = await openTestReplica(server, options);
  open.push(opened);
  return opened;
};

describe('fuzz regressions', () => {
  it('a row re-created by the replica that deleted it holds only its new values, on every replica', async () => {
    server = createTestServer();
    const a = await replica();
    const b = await replica();
    await a.db.table('notes').add({ id: 'n1', title: 'old', body: 'old body' });
    await a.sync();
    await b.sync();
    await a.db.table('notes').delete('n1');
    await a.sync();
    await b.sync();
    // The same rowguid is created again (an app keyed by a natural key does this), without a body.
    await a.db.table('notes').put({ id: 'n1', title: 'new' });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'new' });
    expect((await serverRows(server)).notes!.n1).toEqual({ title: 'new' });
  });

  it('a row deleted and created again before upload replaces the old row on every replica', async () => {
    server = createTestServer();
    const a = await replica();
    const b = await replica();
    await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 5, price: 2 });
    await a.sync();
    await b.sync();
    // Offline: the delete and the new row are one pending change when the replica next syncs.
    await a.db.table('stock').delete('s1');
    await a.db.table('stock').put({ id: 's1', qty: 9 });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect(await a.db.table('stock').get('s1')).toEqual({ id: 's1', qty: 9 });
    expect((await serverRows(server)).stock!.s1).toEqual({ qty: 9 });
  });
  it('a row deleted and put again in one transaction loses the columns the new row lacks, on every replica', async () => {
    server = createTestServer();
    const a = await replica();
    const b = await replica();
    // Another replica wrote the column the new row will lack.
    await b.db.table('stock').add({ id: 's3', qty: 6, price: 7.5 });
    await b.sync();
    await a.sync();
    await a.db.transaction('rw', a.db.table('stock'), async () => {
      await a.db.table('stock').delete('s3');
      await a.db.table('stock').put({ id: 's3', sku: 'S3', price: 19.5 });
    });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).stock!.s3).toEqual({ sku: 'S3', price: 19.5 });
  });
  it('a column cleared after an insert whose upload lost its response is cleared on the server too', async () => {
    server = createTestServer();
    let loseResponse = false;
    const a = await replica({
      fetch: async (input, init) => {
        const response = await server.app.request(input as string, init);
        if (loseResponse && String(input).endsWith('/v1/push')) {
          loseResponse = false;
          throw new TypeError('response lost');
        }
        return response;
      },
    });
    const b = await replica();
    await a.db.table('notes').add({ id: 'n1', title: 'first', rank: 2 });
    loseResponse = true;
    await expect(a.sync()).rejects.toThrow('response lost');
    // The server has the insert; the replica cannot know it. Now the row loses its rank.
    await a.db.table('notes').put({ id: 'n1', title: 'second' });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).notes!.n1).toEqual({ title: 'second' });
  });
});
