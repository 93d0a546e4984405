import { describe, expect, it } from 'vitest';
import { expectConverged, replicaState, serverRows } from '../support/test-replica';
import { outboxOf, useFaultWorld } from './replica-fault-support';

const { start, replica, wire, snapshot, serverGeneration } = useFaultWorld();

describe('lost responses', () => {
  it('a push whose response is lost is retried, answered as duplicate, and applied exactly once', async () => {
    const server = start();
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && exchange.n === 1) {
        await forward();
        throw new TypeError('network');
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one', rank: 1 },
      { id: 'n2', title: 'two', rank: 2 },
    ]);
    await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 3 });

    await expect(a.sync()).rejects.toMatchObject({ code: 'unavailable' });
    expect(a.status).toMatchObject({ state: 'offline', pending: 3, error: { code: 'unavailable' } });
    expect(await outboxOf(a)).toHaveLength(3);
    const [lost] = w.pushes();
    expect(lost).toMatchObject({ status: 200, delivered: false });
    expect(lost!.response!.results.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied']);
    expect(serverGeneration()).toBe(3);

    expect(await a.sync()).toMatchObject({ uploaded: 3, conflicts: 0, rejected: 0 });
    const [, retry, ...more] = w.pushes();
    expect(more).toEqual([]);
    expect(retry!.request).toEqual(lost!.request);
    expect(retry!.response!.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(retry!.response!.results.map((r) => r.generation)).toEqual(lost!.response!.results.map((r) => r.generation));

    const after = snapshot();
    expect(serverGeneration()).toBe(3);
    expect(after.rows.map((row) => [row.rowguid, row.generation]).sort()).toEqual(
      lost!.response!.results.map((r) => [r.rowguid, r.generation]).sort(),
    );
    expect(after.conflicts).toEqual([]);
    expect(a.status).toMatchObject({ state: 'idle', pending: 0, error: null });
    expect(await replicaState(a)).toMatchObject({ inFlight: null, sentGeneration: lost!.request.toLocalGeneration });

    expect(await b.sync()).toMatchObject({ downloaded: 3 });
    await expectConverged(server, a, b);
  });

  it('a conflicting push whose response is lost logs its conflict once and both replicas end on the server value', async () => {
    const server = start();
    let loseNextPush = false;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && loseNextPush) {
        loseNextPush = false;
        await forward();
        throw new TypeError('network');
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await a.db.table('notes').add({ id: 'n1', title: 'base', rank: 1 });
    await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 10, price: 2 });
    await a.sync();
    await b.sync();
    // B writes first: a whole-row change and one column of the column-tracked row.
    await b.db.table('notes').update('n1', { title: 'from b' });
    await b.db.table('stock').update('s1', { qty: 12 });
    await b.sync();
    await a.db.table('notes').update('n1', { title: 'from a' });
    await a.db.table('stock').update('s1', { qty: 7, price: 3 });

    loseNextPush = true;
    await expect(a.sync()).rejects.toMatchObject({ code: 'unavailable' });
    expect(a.status.state).toBe('offline');
    const lost = w.pushes().at(-1)!;
    expect(lost.delivered).toBe(false);
    expect(lost.response!.results.map((r) => [r.rowguid, r.outcome])).toEqual([
      ['n1', 'conflict'],
      ['s1', 'conflict'],
    ]);
    expect((await server.conflicts()).conflicts).toHaveLength(2);
    // The replica never saw the resolution: it still shows its own values and keeps them pending.
    expect(await a.db.table('notes').get('n1')).toMatchObject({ title: 'from a' });
    expect(await outboxOf(a)).toHaveLength(2);

    await a.sync();
    const retry = w.pushes().at(-1)!;
    expect(retry.request).toEqual(lost.request);
    expect(retry.response!.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);

    const log = (await server.conflicts()).conflicts;
    expect(log).toHaveLength(2);
    // A change without its own local generation has the push's last one (the protocol default).
    const { changes, toLocalGeneration } = lost.request;
    expect(log.filter((entry) => entry.rowguid === 'n1')).toEqual([
      expect.objectContaining({
        type: 'update-update',
        localGeneration: changes[0]!.localGeneration ?? toLocalGeneration,
      }),
    ]);
    expect(log.filter((entry) => entry.rowguid === 's1')).toEqual([
      expect.objectContaining({ columns: ['qty'], localGeneration: changes[1]!.localGeneration ?? toLocalGeneration }),
    ]);
    expect(snapshot().conflicts).toHaveLength(2);

    // The server version stands (B reached it first); A's non-conflicting column merged in.
    const expected = await serverRows(server);
    expect(expected.notes!.n1).toEqual({ title: 'from b', rank: 1 });
    expect(expected.stock!.s1).toEqual({ sku: 'S1', qty: 12, price: 3 });
    await b.sync();
    for (const r of [a, b]) {
      expect(await r.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'from b', rank: 1 });
      expect(await r.db.table('stock').get('s1')).toEqual({ id: 's1', sku: 'S1', qty: 12, price: 3 });
    }
    expect((await a.conflicts()).map((entry) => entry.id).sort()).toEqual(log.map((entry) => entry.id).sort());
    await expectConverged(server, a, b);
  });

  it('a lost push followed by more edits: the lost batch is replayed as it was, then only what is new goes up, and every change arrives once', async () => {
    const server = start();
    let loseNextPush = true;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && loseNextPush) {
        loseNextPush = false;
        await forward();
        throw new TypeError('network');
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
      { id: 'n4', title: 'four' },
    ]);
    await expect(a.sync()).rejects.toMatchObject({ code: 'unavailable' });
    const lost = w.pushes()[0]!;
    expect(serverGeneration()).toBe(3);
    const lostGeneration = (rowguid: string) => lost.response!.results.find((r) => r.rowguid === rowguid)!.generation;

    // More edits while the first batch's fate is unknown: edit one, delete one, add one, leave one.
    await a.db.table('notes').update('n1', { title: 'one, edited', rank: 1 });
    await a.db.table('notes').delete('n2');
    await a.db.table('notes').add({ id: 'n3', title: 'three' });
    // The server may already hold n2, so its delete must go up rather than cancel locally.
    expect(await a.db.table('_changes').get(['notes', 'n2'])).toMatchObject({ op: 'delete' });
    expect(await outboxOf(a)).toHaveLength(4);

    expect(await a.sync()).toMatchObject({ uploaded: 6, conflicts: 0, rejected: 0 });
    const [, replay, retry] = w.pushes();
    expect(w.pushes()).toHaveLength(3);
    // The lost batch goes again exactly as it was; the server answers it as a replay.
    expect(replay!.request).toEqual(lost.request);
    expect(replay!.response!.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(Object.fromEntries(retry!.response!.results.map((r) => [r.rowguid, r.outcome]))).toEqual({
      n1: 'applied',
      n2: 'applied',
      n3: 'applied',
    });
    // Three versions from the lost batch, three from the retry: nothing applied twice.
    expect(serverGeneration()).toBe(6);
    const rows = snapshot().rows;
    expect(rows.find((row) => row.rowguid === 'n4')!.generation).toBe(lostGeneration('n4'));
    expect(rows.find((row) => row.rowguid === 'n2')!.deleted).toBe(1);
    expect(snapshot().conflicts).toEqual([]);
    expect(await serverRows(server)).toEqual({
      notes: { n1: { title: 'one, edited', rank: 1 }, n3: { title: 'three' }, n4: { title: 'four' } },
      stock: {},
    });

    expect(await b.sync()).toMatchObject({ downloaded: 4 });
    await expectConverged(server, a, b);
  });
});

describe('interrupted download', () => {
  it('a download that fails on its third page keeps the first two pages and resumes at their cursor without repeats', async () => {
    const server = start();
    const a = await replica({ maxUploadChanges: 5 }); // five server transactions: pages end between them
    const ids = Array.from({ length: 25 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    await a.db.table('notes').bulkAdd(ids.map((id, i) => ({ id, title: `t${i}`, rank: i })));
    expect(await a.sync()).toMatchObject({ uploaded: 25 });

    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/pull' && exchange.n === 3) throw new TypeError('network');
      return forward();
    });
    const b = await replica({ fetch: w.fetch, maxDownloadChanges: 10 });
    await expect(b.sync()).rejects.toMatchObject({ code: 'unavailable' });
    expect(b.status.state).toBe('offline');

    const [page1, page2, failed] = w.pulls();
    expect(w.pulls()).toHaveLength(3);
    expect(page1!.response).toMatchObject({ more: true });
    expect(page2!.response).toMatchObject({ more: true });
    expect(page1!.response!.changes).toHaveLength(10);
    expect(page2!.response!.changes).toHaveLength(10);
    expect(failed!.delivered).toBe(false);
    expect(failed!.status).toBeUndefined();
    expect([page1, page2, failed].map((pull) => pull!.request.after)).toEqual([
      0,
      page1!.response!.cursor,
      page2!.response!.cursor,
    ]);
    const firstTwenty = [...page1!.response!.changes, ...page2!.response!.changes].map((c) => c.rowguid);
    expect(((await b.db.table('notes').toCollection().primaryKeys()) as string[]).sort()).toEqual(
      [...firstTwenty].sort(),
    );
    expect((await replicaState(b)).receivedGeneration).toBe(page2!.response!.cursor);

    expect(await b.sync()).toMatchObject({ downloaded: 5, uploaded: 0 });
    const resumed = w.pulls().slice(3);
    expect(resumed[0]!.request.after).toBe(page2!.response!.cursor);
    const seen = w
      .pulls()
      .filter((pull) => pull.delivered)
      .flatMap((pull) => pull.response!.changes.map((change) => change.rowguid));
    expect(seen).toHaveLength(25);
    expect([...seen].sort()).toEqual(ids);
    expect(b.status).toMatchObject({ state: 'idle', error: null });
    await expectConverged(server, a, b);
  });
});

describe('lost pull response', () => {
  it('a pull whose response is lost is asked again from the same cursor and its rows are applied once', async () => {
    const server = start();
    const a = await replica();
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
    ]);
    await a.sync();
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/pull' && exchange.n === 1) {
        await forward();
        throw new TypeError('network');
      }
      return forward();
    });
    const b = await replica({ fetch: w.fetch });
    await expect(b.sync()).rejects.toMatchObject({ code: 'unavailable' });
    expect(await b.db.table('notes').count()).toBe(0);
    expect((await replicaState(b)).receivedGeneration ?? 0).toBe(0);
    expect(await b.sync()).toMatchObject({ downloaded: 2 });
    const [lost, retry] = w.pulls();
    expect(retry!.request.after).toBe(lost!.request.after);
    expect(retry!.response!.changes).toEqual(lost!.response!.changes);
    await expectConverged(server, a, b);
  });
});
