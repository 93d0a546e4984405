import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/test-world';
import { expectConverged, serverRows } from '../support/test-replica';

/** Regressions found by the seeded fuzz harness (test/fuzz/harness.ts), each reduced by hand. */

const world = useTestWorld();
const { replica } = world;

describe('fuzz regressions', () => {
  it('a row re-created by the replica that deleted it holds only its new values, on every replica', async () => {
    const server = world.start();
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
    const server = world.start();
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
    const server = world.start();
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
    const server = world.start();
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

  // Found by the poison fault: the refused insert leaves no row at the server, and the replica
  // kept the columns it was not editing (the answer had no row to take), while its later edit
  // went up as a column update that created a row without them.
  it('an insert the server refuses, edited while its push was in flight, leaves the replica like the server', async () => {
    const server = world.start();
    let spoil = true;
    const a = await replica({
      fetch: async (input, init) => {
        if (spoil && String(input).endsWith('/v1/push')) {
          spoil = false;
          // The app edits the row while the push is on its way; the push carries a value of the
          // wrong type, as a buggy older client would send it.
          await a.db.table('notes').update('n0', { rank: 3 });
          const body = JSON.parse(init!.body as string) as { changes: { values: Record<string, unknown> }[] };
          body.changes[0]!.values.title = -1.25;
          init = { ...init, body: JSON.stringify(body) };
        }
        return server.app.request(input as string, init);
      },
    });
    await a.db.table('notes').put({ id: 'n0', title: 'first', rank: 2 });
    const report = await a.sync();
    expect(report.rejected).toBe(1);
    await a.sync();
    await expectConverged(server, a);
  });

  // Found by the fuzz (an offline round, then a delete and a new row): the insert's batch stays in
  // flight when its push never leaves; the row is deleted and written again (a replace); the batch
  // is sent again as it was and creates the old row, and settling its answer turned the pending
  // replace into a column update, so the old row's columns stayed at the server.
  it('a row deleted and written again while its insert is in flight replaces the row the resent insert made', async () => {
    const server = world.start();
    let offline = false;
    const a = await replica({
      fetch: async (input, init) => {
        if (offline) throw new TypeError('offline');
        return server.app.request(input as string, init);
      },
    });
    await a.sync();
    offline = true;
    await a.db.table('stock').put({ id: 's3', extra: { w: 1 } });
    await expect(a.sync()).rejects.toThrow('offline'); // its batch stays in flight
    await a.db.table('stock').delete('s3');
    await a.db.table('stock').put({ id: 's3', qty: 3 }); // a new row
    offline = false;
    await a.sync();
    await a.sync();
    expect((await serverRows(server)).stock!.s3).toEqual({ qty: 3 });
    await expectConverged(server, a);
  });

  // Found by the fuzz: an insert whose values the server's row already holds was answered `applied`
  // without a write and without the row, though the row has other replicas' columns; the edit made
  // while it was in flight then made this replica the row's last writer, so its pulls left the row
  // out and it never got those columns.
  it('an insert equal to the stored row on its columns, edited while in flight, still gets the row’s other columns', async () => {
    const server = world.start();
    let beforePush: (() => Promise<void>) | undefined;
    const a = await replica({
      fetch: async (input, init) => {
        if (beforePush && String(input).endsWith('/v1/push')) {
          const run = beforePush;
          beforePush = undefined;
          await run();
        }
        return server.app.request(input as string, init);
      },
    });
    const b = await replica();
    await a.sync();
    await b.db.table('notes').put({ id: 'n2', title: 'from b', pinned: false });
    await b.sync();
    await a.db.table('notes').put({ id: 'n2', pinned: false }); // a has not seen b's row
    beforePush = () =>
      a.db
        .table('notes')
        .update('n2', { rank: 5 })
        .then(() => undefined);
    await a.sync();
    await a.sync();
    await b.sync();
    await expectConverged(server, a, b);
  });
});
