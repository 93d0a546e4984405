import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@concord/shared';
import { createSqliteStore, manual, type Store } from '@concord/server';
import { commitRows } from '../store/store-fixtures';
import { upsert } from '../support/test-server';
import { expectConverged } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();
const { start, replica } = world;

/** Reads `text/event-stream` events from a response as `[type, data]` pairs. */
function readEvents(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async function next(): Promise<[string, unknown]> {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
        return [type, data ? JSON.parse(data) : null];
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

async function subscribe(path = '/v1/events') {
  const abort = new AbortController();
  world.cleanup(() => abort.abort());
  const response = await world.server().request(path, { signal: abort.signal });
  return { response, next: readEvents(response) };
}

describe('the event stream', () => {
  it('opens with hello, then pokes with the newest generation after every commit', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const { response, next } = await subscribe();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await next()).toEqual(['hello', { generation: 0, epoch: expect.any(String) }]);
    await server.push(a, [upsert('notes', 'n1', { title: 'one' }, { gen: 1 }), upsert('notes', 'n2', {}, { gen: 1 })]);
    expect(await next()).toEqual(['poke', { generation: 2 }]);
    await server.push(a, [upsert('notes', 'n3', { title: 'three' }, { gen: 2 })]);
    expect(await next()).toEqual(['poke', { generation: 3 }]);
  });

  it('a replayed push commits nothing new and pokes nobody; an idle stream sends pings', async () => {
    const server = start({ realtime: { heartbeatMs: 50 } });
    const a = (await server.register()).replicaId;
    const change = upsert('notes', 'n1', { title: 'one' }, { gen: 1 });
    await server.push(a, [change]);
    const { next } = await subscribe();
    expect(await next()).toEqual(['hello', { generation: 1, epoch: expect.any(String) }]);
    await server.push(a, [change]);
    expect(await next()).toEqual(['ping', null]);
  });
});

describe('the event stream and a commit made while it opens', () => {
  it('a commit landing between reading the generation for hello and the first poke is still poked', async () => {
    // The store's generation is read for hello, then a commit lands before meta() returns.
    const store = createSqliteStore({ filename: join(mkdtempSync(join(tmpdir(), 'concord-race-')), 'store.db') });
    let commitDuringMeta = false;
    const racing: Store = {
      ...store,
      async meta() {
        const meta = await store.meta();
        if (commitDuringMeta) {
          commitDuringMeta = false;
          await commitRows(store, [
            { table: 'notes', rowguid: 'n1', values: {}, deleted: false, writer: 'r', priority: 0 },
          ]);
        }
        return meta;
      },
    };
    const server = start({ store: racing });
    await server.request('/v1/conflicts'); // served once the server's startup reads are done
    commitDuringMeta = true;
    const { next } = await subscribe();
    expect(await next()).toEqual(['hello', { generation: 0, epoch: expect.any(String) }]);
    expect(await next()).toEqual(['poke', { generation: 1 }]);
  });
});

describe('realtime sync', () => {
  const background = { syncIntervalMs: 600_000, debounceMs: 10 };

  it('a started replica receives another replica’s write through a poke, without an interval or a sync() call', async () => {
    const server = start();
    const a = await replica();
    const b = await replica(background);
    b.start();
    await vi.waitFor(() => expect(b.status.lastSyncAt).not.toBeNull());
    await a.db.table('notes').add({ id: 'n1', title: 'from A' });
    await a.sync();
    await vi.waitFor(async () => expect(await b.db.table('notes').get('n1')).toMatchObject({ title: 'from A' }), {
      timeout: 5_000,
    });
    await expectConverged(server, a, b);
  });

  it('a replica whose stream cannot open still syncs, and the stream reconnects when the server is back', async () => {
    const server = start();
    let down = true;
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (down && String(input).endsWith('/v1/events')) throw new TypeError('connection refused');
      return server.app.request(input as string, init);
    };
    const a = await replica();
    const b = await replica({ ...background, fetch, backoffMs: 20, maxBackoffMs: 50 });
    b.start();
    await a.db.table('notes').add({ id: 'n1', title: 'while the stream is down' });
    await a.sync();
    await b.sync();
    expect(await b.db.table('notes').get('n1')).toBeDefined();
    down = false;
    await a.db.table('notes').add({ id: 'n2', title: 'after it is back' });
    await a.sync();
    await vi.waitFor(async () => expect(await b.db.table('notes').get('n2')).toBeDefined(), { timeout: 5_000 });
    await expectConverged(server, a, b);
  });
});

describe('conflicts that change no row', () => {
  it('a poke goes out for a commit that only logs a conflict, and it says so', async () => {
    const server = start({ resolvers: { tables: { notes: { row: manual() } } } });
    const writer = (await server.register()).replicaId;
    const other = (await server.register()).replicaId;
    await server.push(writer, [upsert('notes', 'n1', { title: 'first' }, { gen: 1 })]);
    const { next } = await subscribe();
    expect((await next())[0]).toBe('hello');
    // manual() keeps the server's version: no row changes and no generation is allocated.
    await server.push(other, [upsert('notes', 'n1', { title: 'second' }, { gen: 1 })]);
    expect(await next()).toEqual(['poke', { generation: 1, conflicts: true }]);
    const [entry] = (await server.conflicts()).conflicts;
    await server.resolve(entry!.id, { protocol: PROTOCOL_VERSION, choice: 'winner' });
    expect(await next()).toEqual(['poke', { generation: 2, conflicts: true }]);
  });

  it('the winning device shows a conflict kept open by manual() at once, not at its next interval sync', async () => {
    const server = start({ resolvers: { tables: { notes: { row: manual() } } } });
    const b = await replica({ syncIntervalMs: 600_000, debounceMs: 10 });
    const c = await replica();
    b.start();
    await b.db.table('notes').add({ id: 'n1', title: 'price 5' });
    await vi.waitFor(async () =>
      expect((await server.store.changesSince({ after: 0, limit: 10 })).rows).toHaveLength(1),
    );
    await c.sync();
    await b.db.table('notes').put({ id: 'n1', title: 'price 6' });
    await vi.waitFor(async () =>
      expect((await server.store.changesSince({ after: 0, limit: 10 })).rows[0]!.values.title).toBe('price 6'),
    );
    await vi.waitFor(() => expect(b.status.state).toBe('idle'));
    await c.db.table('notes').put({ id: 'n1', title: 'price 7' });
    await c.sync(); // c never saw b's second price: manual() keeps it and leaves the conflict open, no row changes
    expect(c.status.openConflicts).toBe(1);
    // B wrote nothing since, but it is the winner the open entry names: a poke tells it.
    await vi.waitFor(() => expect(b.status.openConflicts).toBe(1), { timeout: 5_000 });
  });
});

describe('stale event streams', () => {
  it('a stream silent for longer than realtimeStaleMs is closed and opened again, and pokes still arrive', async () => {
    const server = start({ realtime: { heartbeatMs: 600_000 } }); // the server never pings
    let opened = 0;
    const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith('/v1/events')) opened++;
      return Promise.resolve(server.app.request(input as string, init));
    };
    const a = await replica();
    const b = await replica({ fetch, realtimeStaleMs: 100, syncIntervalMs: 600_000 });
    b.start();
    await vi.waitFor(() => expect(opened).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    await a.db.table('notes').add({ id: 'n1', title: 'after reconnects' });
    await a.sync();
    await vi.waitFor(async () => expect(await b.db.table('notes').get('n1')).toBeDefined(), { timeout: 5_000 });
  });
});

describe('without Web Locks', () => {
  it('a replica leads by itself and its background sync runs', async () => {
    const server = start();
    const a = await replica({ locks: null, debounceMs: 10 });
    expect(a.status.leader).toBe(true);
    a.start();
    await a.db.table('notes').add({ id: 'n1', title: 'direct' });
    await vi.waitFor(async () =>
      expect((await server.store.changesSince({ after: 0, limit: 10 })).rows).toHaveLength(1),
    );
  });
});
