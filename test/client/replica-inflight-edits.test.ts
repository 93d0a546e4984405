import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '@concord/client';
import { expectConverged, serverRows, shareRow } from '../support/test-replica';
import { gate, outboxOf, useFaultWorld } from './replica-fault-support';

const { start, replica, wire } = useFaultWorld();

describe('edits made while a sync is in flight', () => {
  it('an edit to another column and a new row made during an upload stay local and pending, then upload rebased', async () => {
    const server = start();
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
    const server = start();
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
    const server = start();
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
