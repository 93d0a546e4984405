import { describe, expect, it, vi } from 'vitest';
import type { Replica } from '@concord/client';
import { expectConverged, serverRows } from '../support/test-replica';
import { gate, network, useFaultWorld } from './replica-fault-support';

const world = useFaultWorld();
const { start, replica, wire } = world;

describe('background sync', () => {
  // The event stream has its own tests (realtime.test.ts); here every request counted is the scheduler's.
  const timings = { debounceMs: 20, syncIntervalMs: 60_000, backoffMs: 20, maxBackoffMs: 100, realtime: false };
  const waitIdle = (r: Replica) => vi.waitFor(() => expect(r.status.state).toBe('idle'), { timeout: 2_000 });
  const hasNote = (id: string) =>
    vi.waitFor(async () => expect((await serverRows(world.server())).notes![id]).toBeDefined(), {
      timeout: 3_000,
      interval: 10,
    });

  it('after start(), a local write is uploaded without calling sync()', async () => {
    const server = start();
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
    const server = start();
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
    const server = start();
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
    const server = start();
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
    const server = start();
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
