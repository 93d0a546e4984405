import { describe, expect, it } from 'vitest';
import type { FromServerPush } from '@concord/shared';
import { expectConverged } from '../support/test-replica';
import { outboxOf, useFaultWorld } from './replica-fault-support';

const { start, replica, wire, snapshot } = useFaultWorld();

describe('an answer that does not match what was sent', () => {
  it.each<[string, (results: FromServerPush['results']) => FromServerPush['results']]>([
    ['results in another order', (results) => [...results].reverse()],
    ['a result missing', (results) => results.slice(1)],
    ['a result too many', (results) => [...results, results[0]!]],
    ['a result naming another row', (results) => results.map((r, i) => (i === 0 ? { ...r, rowguid: 'other' } : r))],
  ])('with %s fails the round and keeps the outbox; the next round settles it', async (_name, garble) => {
    const server = start();
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
    const server = start();
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
    const server = start();
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
