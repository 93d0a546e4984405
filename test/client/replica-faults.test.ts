import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutboxEntry, Replica } from '@concord/client';
import type { FromReplicaPull, FromReplicaPushInput, FromServerPull, FromServerPush } from '@concord/shared';
import { createTestServer, type TestServer } from '../support/test-server';
import { expectConverged, openTestReplica, serverRows, type TestReplicaOptions } from '../support/test-replica';

let server: TestServer;
const open: Replica[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
});
const replica = async (options: TestReplicaOptions = {}) => {
  const opened = await openTestReplica(server, options);
  open.push(opened);
  return opened;
};
const start = () => (server = createTestServer());

// ---- a fault-injecting wire between the replica and the server

interface Exchange<Req = unknown, Res = unknown> {
  path: string;
  /** 1-based count of requests to this path, this one included. */
  n: number;
  request: Req;
  /** Set once the server answered (even when the fault then hides the answer from the replica). */
  status?: number;
  response?: Res;
  /** Whether the replica received the answer. */
  delivered: boolean;
}

/** Decides what the replica gets: `forward()` lets the server handle the request and gives its answer. */
type Fault = (exchange: Exchange, forward: () => Promise<Response>) => Promise<Response>;

/** A fetch to the test server through `fault`, recording every exchange. */
function wire(fault: Fault = (_, forward) => forward()) {
  const exchanges: Exchange[] = [];
  const counts = new Map<string, number>();
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const path = new URL(input as string).pathname;
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const exchange: Exchange = {
      path,
      n,
      request: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      delivered: false,
    };
    exchanges.push(exchange);
    const forward = async () => {
      const response = await server.app.request(input as string, init);
      const text = await response.text();
      exchange.status = response.status;
      exchange.response = JSON.parse(text);
      return new Response(text, { status: response.status, headers: response.headers });
    };
    const response = await fault(exchange, forward);
    exchange.delivered = true;
    return response;
  };
  return {
    fetch,
    exchanges,
    pushes: () => exchanges.filter((e) => e.path === '/v1/push') as Exchange<FromReplicaPushInput, FromServerPush>[],
    pulls: () => exchanges.filter((e) => e.path === '/v1/pull') as Exchange<FromReplicaPull, FromServerPull>[],
  };
}

/** A gate a fault can wait at: `reached` resolves when something waits, `release()` lets it through. */
function gate() {
  let signal!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (signal = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    reached,
    release,
    wait: () => {
      signal();
      return released;
    },
  };
}

// ---- reading state

async function state(replica: Replica): Promise<Record<string, unknown>> {
  const records = (await replica.db.table('_state').toArray()) as { key: string; value: unknown }[];
  return Object.fromEntries(records.map((record) => [record.key, record.value]));
}

interface Snapshot {
  rows: { tbl: string; rowguid: string; generation: number; deleted: number; writer: string; data: string }[];
  meta: { key: string; value: string }[];
  conflicts: { id: string; entry: string }[];
}
const snapshot = () => server.snapshot() as Snapshot;
/** The server's generation counter: how many row versions it has ever written. */
const serverGeneration = () => Number(snapshot().meta.find((record) => record.key === 'generation')!.value);
const outboxOf = (replica: Replica) => replica.db.table<OutboxEntry>('_changes').toArray();

async function shareRow(first: Replica, other: Replica, table: string, row: Record<string, unknown>): Promise<void> {
  await first.db.table(table).add(row);
  await first.sync();
  await other.sync();
}

const network = () => Promise.reject(new TypeError('network'));

describe('lost responses', () => {
  it('a push whose response is lost is retried, answered as duplicate, and applied exactly once', async () => {
    start();
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
    expect(await state(a)).toMatchObject({ inFlight: null, sentGeneration: lost!.request.toLocalGeneration });

    expect(await b.sync()).toMatchObject({ downloaded: 3 });
    await expectConverged(server, a, b);
  });

  it('a conflicting push whose response is lost logs its conflict once and both replicas end on the server value', async () => {
    start();
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
    start();
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
    start();
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
    expect((await state(b)).receivedGeneration).toBe(page2!.response!.cursor);

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
    start();
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
    expect((await state(b)).receivedGeneration ?? 0).toBe(0);
    expect(await b.sync()).toMatchObject({ downloaded: 2 });
    const [lost, retry] = w.pulls();
    expect(retry!.request.after).toBe(lost!.request.after);
    expect(retry!.response!.changes).toEqual(lost!.response!.changes);
    await expectConverged(server, a, b);
  });
});

describe('edits made while a sync is in flight', () => {
  it('an edit to another column and a new row made during an upload stay local and pending, then upload rebased', async () => {
    start();
    const push = gate();
    let pauseNextPush = false;
    const outboxAtPush: OutboxEntry[][] = [];
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push') {
        outboxAtPush.push(await outboxOf(a));
        if (pauseNextPush) {
          pauseNextPush = false;
          await push.wait();
        }
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await shareRow(a, b, 'notes', { id: 'n1', title: 'one', rank: 1 });
    await a.db.table('notes').update('n1', { title: 'two' });

    pauseNextPush = true;
    const round = a.sync();
    await push.reached;
    const inFlight = w.pushes().at(-1)!;
    expect(inFlight.request.changes).toEqual([expect.objectContaining({ rowguid: 'n1', values: { title: 'two' } })]);
    await a.db.table('notes').update('n1', { body: 'added in flight' });
    await a.db.table('notes').add({ id: 'n2', title: 'new in flight' });
    expect(await outboxOf(a)).toHaveLength(2);
    push.release();
    await round;
    const firstResult = inFlight.response!.results[0]!;
    expect(firstResult.outcome).toBe('applied');

    // The answer to the first upload did not wipe out the newer edits.
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'two', rank: 1, body: 'added in flight' });
    expect(await a.db.table('notes').get('n2')).toEqual({ id: 'n2', title: 'new in flight' });
    // Whatever is still pending goes up by the next sync at the latest (the upload loop may already
    // have sent it in the same round).
    await a.sync();
    expect(await outboxOf(a)).toEqual([]);

    // After the first upload was settled the newer edits were pending, n1 rebased onto its result:
    // only the column edited again goes up, from the generation the server gave the first upload.
    const later = w.pushes().slice(w.pushes().indexOf(inFlight) + 1);
    expect(later).toHaveLength(1);
    const pending = outboxAtPush[outboxAtPush.length - 1]!;
    expect(pending).toHaveLength(2);
    expect(pending.find((entry) => entry.rowguid === 'n1')).toMatchObject({
      columns: ['body'],
      baseGeneration: firstResult.generation,
      inserted: false,
    });
    expect(pending.find((entry) => entry.rowguid === 'n2')).toMatchObject({ inserted: true });
    const sent = Object.fromEntries(later[0]!.request.changes.map((change) => [change.rowguid, change]));
    expect(sent.n1).toMatchObject({ values: { body: 'added in flight' }, baseGeneration: firstResult.generation });
    expect(sent.n2).toMatchObject({ values: { title: 'new in flight' } });
    expect(sent.n2).not.toHaveProperty('baseGeneration'); // 0, the protocol default, is left out
    expect(later[0]!.response!.results.map((r) => r.outcome)).toEqual(['applied', 'applied']);
    expect((await server.conflicts()).conflicts).toEqual([]);

    await b.sync();
    expect(await b.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'two', rank: 1, body: 'added in flight' });
    await expectConverged(server, a, b);
  });

  it('the same column edited again during an upload keeps the newer local value, which then wins on the server', async () => {
    start();
    const push = gate();
    let pauseNextPush = false;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && pauseNextPush) {
        pauseNextPush = false;
        await push.wait();
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await shareRow(a, b, 'notes', { id: 'n1', title: 'one', rank: 1 });
    await a.db.table('notes').update('n1', { title: 'two' });

    pauseNextPush = true;
    const round = a.sync();
    await push.reached;
    await a.db.table('notes').update('n1', { title: 'three' });
    push.release();
    await round;
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'three', rank: 1 });

    await a.sync();
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'three', rank: 1 });
    expect((await serverRows(server)).notes!.n1).toEqual({ title: 'three', rank: 1 });
    expect(w.pushes().map((p) => p.request.changes.map((c) => c.values))).toEqual([
      [{ title: 'one', rank: 1 }],
      [{ title: 'two' }],
      [{ title: 'three' }],
    ]);
    expect((await server.conflicts()).conflicts).toEqual([]);
    await b.sync();
    await expectConverged(server, a, b);
  });

  it('column tracking: a merged answer to an upload whose row was edited again still brings the other replica’s column', async () => {
    start();
    const push = gate();
    let pauseNextPush = false;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && pauseNextPush) {
        pauseNextPush = false;
        await push.wait();
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await shareRow(a, b, 'stock', { id: 's1', sku: 'S1', qty: 10, price: 2 });
    await b.db.table('stock').update('s1', { price: 2.5 });
    await b.sync();
    await a.db.table('stock').update('s1', { qty: 7 });

    pauseNextPush = true;
    const round = a.sync();
    await push.reached;
    await a.db.table('stock').update('s1', { qty: 8 });
    push.release();
    await round;
    await a.sync();
    const merged = w.pushes().find((p) => p.response?.results.some((r) => r.outcome === 'merged'));
    expect(merged?.response?.results[0]).toMatchObject({ outcome: 'merged', values: { qty: 7, price: 2.5 } });
    expect((await serverRows(server)).stock!.s1).toEqual({ sku: 'S1', qty: 8, price: 2.5 });
    expect(await a.db.table('stock').get('s1')).toEqual({ id: 's1', sku: 'S1', qty: 8, price: 2.5 });
    await b.sync();
    await expectConverged(server, a, b);
  });
});

describe('an answer that does not match what was sent', () => {
  it.each<[string, (results: FromServerPush['results']) => FromServerPush['results']]>([
    ['results in another order', (results) => [...results].reverse()],
    ['a result missing', (results) => results.slice(1)],
    ['a result too many', (results) => [...results, results[0]!]],
    ['a result naming another row', (results) => results.map((r, i) => (i === 0 ? { ...r, rowguid: 'other' } : r))],
  ])('with %s fails the round and keeps the outbox; the next round settles it', async (_name, garble) => {
    start();
    let garbling = true;
    const w = wire(async (exchange, forward) => {
      const response = await forward();
      if (exchange.path !== '/v1/push' || !garbling) return response;
      const body = (await response.json()) as FromServerPush;
      return Response.json({ ...body, results: garble(body.results) });
    });
    const a = await replica({ fetch: w.fetch });
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
    ]);
    await expect(a.sync()).rejects.toMatchObject({ code: 'internal' });
    expect(a.status.error?.message).toMatch(/does not match the batch/);
    expect((await outboxOf(a)).map((entry) => entry.rowguid).sort()).toEqual(['n1', 'n2']);
    garbling = false;
    await a.sync();
    await expectConverged(server, a);
    expect(
      w
        .pushes()
        .at(-1)!
        .response!.results.map((r) => r.outcome),
    ).toEqual(['duplicate', 'duplicate']);
  });
});

describe('server errors', () => {
  it('a request the server never answers times out like a lost connection, and the outbox stays', async () => {
    start();
    let hang = true;
    const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      if (!hang) return Promise.resolve(server.app.request(input as string, init));
      // Answers nothing, ever; only the request's own signal ends the wait.
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    };
    const a = await replica({ fetch, timeoutMs: 50 });
    await a.db.table('notes').add({ id: 'n1', title: 'waiting' });
    await expect(a.sync()).rejects.toMatchObject({ code: 'unavailable' });
    expect(a.status).toMatchObject({ state: 'offline', pending: 1 });
    hang = false;
    await a.sync();
    expect(a.status).toMatchObject({ state: 'idle', pending: 0 });
  });

  it('a 500 on push fails the round with status error/internal, leaves the outbox untouched, and a later success clears it', async () => {
    start();
    let failing = true;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/push' && failing) {
        return new Response('{"code":"internal","message":"x"}', {
          status: 500,
          headers: { 'content-type': 'application/json' },
        });
      }
      return forward();
    });
    const a = await replica({ fetch: w.fetch });
    const b = await replica();
    await a.db.table('notes').add({ id: 'n1', title: 'one' });
    await a.db.table('stock').add({ id: 's1', sku: 'S1', qty: 1 });
    const before = await outboxOf(a);

    await expect(a.sync()).rejects.toMatchObject({ code: 'internal', message: 'x' });
    expect(a.status).toMatchObject({ state: 'error', error: { code: 'internal', message: 'x' }, pending: 2 });
    expect(await outboxOf(a)).toEqual(before);
    await expect(a.sync()).rejects.toMatchObject({ code: 'internal' });
    expect(await outboxOf(a)).toEqual(before);
    expect(snapshot().rows).toEqual([]);

    failing = false;
    expect(await a.sync()).toMatchObject({ uploaded: 2 });
    expect(a.status).toMatchObject({ state: 'idle', error: null, pending: 0 });
    await b.sync();
    await expectConverged(server, a, b);
  });
});

describe('background sync', () => {
  // The event stream has its own tests (realtime.test.ts); here every request counted is the scheduler's.
  const timings = { debounceMs: 20, syncIntervalMs: 60_000, backoffMs: 20, maxBackoffMs: 100, realtime: false };
  const waitIdle = (r: Replica) => vi.waitFor(() => expect(r.status.state).toBe('idle'), { timeout: 2_000 });
  const hasNote = (id: string) =>
    vi.waitFor(async () => expect((await serverRows(server)).notes![id]).toBeDefined(), {
      timeout: 3_000,
      interval: 10,
    });

  it('after start(), a local write is uploaded without calling sync()', async () => {
    start();
    const w = wire();
    const a = await replica({ ...timings, fetch: w.fetch });
    a.start();
    await vi.waitFor(() => expect(w.pulls().length).toBeGreaterThan(0), { timeout: 2_000 });
    await waitIdle(a);
    await a.db.table('notes').add({ id: 'n1', title: 'background' });
    await hasNote('n1');
    await vi.waitFor(() => expect(a.status).toMatchObject({ state: 'idle', pending: 0 }), { timeout: 2_000 });
    const b = await replica();
    await b.sync();
    await expectConverged(server, a, b);
  });

  it('failed background rounds retry with backoff until the writes arrive', async () => {
    start();
    let failuresLeft = 3;
    const w = wire(async (_, forward) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new TypeError('network');
      }
      return forward();
    });
    const a = await replica({ ...timings, fetch: w.fetch });
    await a.db.table('notes').add({ id: 'n1', title: 'written offline' });
    a.start();
    await a.db.table('notes').add({ id: 'n2', title: 'written while retrying' });
    await hasNote('n1');
    await hasNote('n2');
    expect(w.exchanges.filter((e) => !e.delivered)).toHaveLength(3);
    await vi.waitFor(() => expect(a.status).toMatchObject({ state: 'idle', pending: 0, error: null }), {
      timeout: 2_000,
    });
    const b = await replica();
    await b.sync();
    await expectConverged(server, a, b);
  });

  it('a write committed while a background round is downloading is uploaded after the debounce, not at the next interval', async () => {
    start();
    const pull = gate();
    let pauseNextPull = true;
    const w = wire(async (exchange, forward) => {
      if (exchange.path === '/v1/pull' && pauseNextPull) {
        pauseNextPull = false;
        await pull.wait();
      }
      return forward();
    });
    const a = await replica({ ...timings, debounceMs: 200, fetch: w.fetch });
    a.start();
    await pull.reached;
    // The round has already uploaded (nothing) and is downloading when the app writes.
    await a.db.table('notes').add({ id: 'n1', title: 'written mid-round' });
    pull.release();
    await hasNote('n1');
    const b = await replica();
    await b.sync();
    await expectConverged(server, a, b);
  });

  it('stop() ends background requests: no writes, online events or timers sync afterwards', async () => {
    start();
    const w = wire();
    const events = new EventTarget();
    const a = await replica({ ...timings, fetch: w.fetch, events });
    a.start();
    await a.db.table('notes').add({ id: 'n1', title: 'before stop' });
    await hasNote('n1');
    await waitIdle(a);
    a.stop();
    await waitIdle(a);
    const requests = w.exchanges.length;
    await a.db.table('notes').add({ id: 'n2', title: 'after stop' });
    events.dispatchEvent(new Event('online'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(w.exchanges.length).toBe(requests);
    expect((await serverRows(server)).notes!.n2).toBeUndefined();
    expect(a.status.pending).toBe(1);
  });

  it('an online event syncs at once, even while a failure is backed off; an offline event shows offline', async () => {
    start();
    let down = true;
    const w = wire(async (_, forward) => (down ? network() : forward()));
    const events = new EventTarget();
    // A long backoff, so only the online event can bring the write up in time.
    const a = await replica({ ...timings, backoffMs: 60_000, maxBackoffMs: 60_000, fetch: w.fetch, events });
    await a.db.table('notes').add({ id: 'n1', title: 'offline write' });
    a.start();
    await vi.waitFor(() => expect(a.status.state).toBe('offline'), { timeout: 2_000 });
    const failed = w.exchanges.length;
    expect(failed).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(w.exchanges.length).toBe(failed);

    down = false;
    events.dispatchEvent(new Event('online'));
    await hasNote('n1');
    await vi.waitFor(() => expect(a.status).toMatchObject({ state: 'idle', pending: 0, error: null }), {
      timeout: 2_000,
    });

    events.dispatchEvent(new Event('offline'));
    expect(a.status.state).toBe('offline');
    const b = await replica();
    await b.sync();
    await expectConverged(server, a, b);
  });
});

describe('real HTTP on loopback', () => {
  it('two replicas sync through a listening server with global fetch, and a column conflict resolves the same on both', async () => {
    start();
    const http = await new Promise<HttpServer>((resolve) => {
      const listening = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(listening as HttpServer),
      );
    });
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
    );
    const { port } = http.address() as AddressInfo;
    expect(port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${port}`;
    const a = await replica({ url, fetch: globalThis.fetch });
    const b = await replica({ url, fetch: globalThis.fetch });

    await shareRow(a, b, 'stock', { id: 's1', sku: 'S1', qty: 10, price: 2, extra: { bin: 'A' } });
    expect(await b.db.table('stock').get('s1')).toEqual({
      id: 's1',
      sku: 'S1',
      qty: 10,
      price: 2,
      extra: { bin: 'A' },
    });
    await a.db.table('stock').update('s1', { qty: 7, price: 3 });
    await b.db.table('stock').update('s1', { qty: 12, extra: { bin: 'B' } });
    await b.db.table('notes').add({ id: 'n1', title: 'from b' });
    expect(await a.sync()).toMatchObject({ uploaded: 1, conflicts: 0 });
    expect(await b.sync()).toMatchObject({ uploaded: 2, conflicts: 1 });
    await a.sync();

    for (const r of [a, b]) {
      expect(await r.db.table('stock').get('s1')).toEqual({
        id: 's1',
        sku: 'S1',
        qty: 7,
        price: 3,
        extra: { bin: 'B' },
      });
      expect(await r.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'from b' });
    }
    const log = (await server.conflicts()).conflicts;
    expect(log).toEqual([
      expect.objectContaining({ table: 'stock', rowguid: 's1', columns: ['qty'], winningValues: { qty: 7 } }),
    ]);
    expect((await b.conflicts()).map((entry) => entry.id)).toEqual([log[0]!.id]);
    await expectConverged(server, a, b);
  });
});
