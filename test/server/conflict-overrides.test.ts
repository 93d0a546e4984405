import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type ConflictEntry } from '@concord/shared';
import { manual } from '@concord/server';
import { remove, upsert } from '../support/test-server';
import { useTestWorld } from '../support/test-world';

/** Settling logged conflicts over HTTP: `POST /v1/conflicts/:id/resolve`. */

const world = useTestWorld();
const { start } = world;

const decide = (choice: unknown, by?: string) => ({ protocol: PROTOCOL_VERSION, choice, ...(by ? { by } : {}) });

/** Replicas A and B edit one seeded row; with `manual()` A's version stands and the conflict stays open. */
async function openConflict(table: 'notes' | 'stock' = 'notes') {
  const server = start({ resolvers: { default: manual() } });
  const [a, b] = [(await server.register()).replicaId, (await server.register()).replicaId];
  const [column, other] = table === 'notes' ? ['title', 'rank'] : ['sku', 'qty'];
  const [seeded] = (await server.push(a, [upsert(table, 'r1', { [column]: 'seed', [other]: 1 }, { gen: 1 })])).results;
  const base = seeded!.generation;
  const [won] = (await server.push(a, [upsert(table, 'r1', { [column]: 'from A' }, { gen: 2, base })])).results;
  const lost = await server.push(b, [upsert(table, 'r1', { [column]: 'from B' }, { gen: 1, base })]);
  expect(lost.results[0]).toMatchObject({ outcome: 'conflict', values: { [column]: 'from A' } });
  const [entry] = (await server.conflicts('?status=open')).conflicts;
  return { server, a, b, entry: entry!, column, base, aWrote: won!.generation };
}

async function settle(id: string, body: unknown) {
  const response = await world.server().resolve(id, body);
  return { status: response.status, body: (await response.json()) as { conflict: ConflictEntry; generation: number } };
}

const row = async () =>
  (await world.server().store.changesSince({ after: 0, limit: 100 })).rows.find((r) => r.rowguid === 'r1')!;

describe('conflict overrides over HTTP', () => {
  it('taking the loser writes it as a new server change that every replica downloads', async () => {
    const { server, a, b, entry } = await openConflict();
    const before = await row();
    const { status, body } = await settle(entry.id, decide('loser', 'reviewer@example.com'));
    expect(status).toBe(200);
    expect(body.conflict).toMatchObject({ id: entry.id, status: 'overridden', resolvedBy: 'reviewer@example.com' });
    expect(body.conflict.resolvedAt).toEqual(expect.any(String));
    expect(body.generation).toBeGreaterThan(before.generation);
    expect(await row()).toMatchObject({ values: { title: 'from B', rank: 1 }, writer: 'server', priority: 100 });
    for (const replica of [a, b]) {
      const { changes } = await server.pull(replica, before.generation);
      expect(changes).toEqual([expect.objectContaining({ rowguid: 'r1', values: { title: 'from B', rank: 1 } })]);
    }
    expect((await server.conflicts(`?status=overridden`)).conflicts.map((c) => c.id)).toEqual([entry.id]);
  });

  it('confirming the winner marks the entry resolved and keeps the value', async () => {
    const { server, entry } = await openConflict();
    const { body } = await settle(entry.id, decide('winner'));
    expect(body.conflict).toMatchObject({ status: 'resolved', resolvedBy: null });
    expect((await row()).values).toMatchObject({ title: 'from A' });
    expect((await server.conflicts('?status=open')).conflicts).toEqual([]);
  });

  it('hand-edited values are laid over the row, and a later decision overrides an earlier one', async () => {
    const { entry } = await openConflict();
    await settle(entry.id, decide({ values: { title: 'agreed' } }));
    expect((await row()).values).toEqual({ title: 'agreed', rank: 1 });
    const { body } = await settle(entry.id, decide('loser'));
    expect(body.conflict.status).toBe('overridden');
    expect((await row()).values).toEqual({ title: 'from B', rank: 1 });
  });

  it('a losing delete, once taken, makes a tombstone that replicates', async () => {
    const server = start({ resolvers: { default: manual() } });
    const [a, b] = [(await server.register()).replicaId, (await server.register()).replicaId];
    const [seeded] = (await server.push(a, [upsert('notes', 'r1', { title: 'seed' }, { gen: 1 })])).results;
    await server.push(a, [upsert('notes', 'r1', { title: 'kept' }, { gen: 2, base: seeded!.generation })]);
    await server.push(b, [remove('notes', 'r1', { gen: 1, base: seeded!.generation })]);
    const [entry] = (await server.conflicts('?status=open')).conflicts;
    expect(entry).toMatchObject({ type: 'delete-update', losingValues: null });
    await settle(entry!.id, decide('loser'));
    expect(await row()).toMatchObject({ deleted: true });
    expect((await server.pull(a, 0)).changes).toEqual([expect.objectContaining({ rowguid: 'r1', deleted: true })]);
  });

  it('on a column-tracked table the override owns its columns: a stale edit conflicts, a disjoint one merges', async () => {
    const { server, a, b, entry, base, aWrote } = await openConflict('stock');
    await settle(entry.id, decide('loser'));
    // A has not downloaded the override: its edit of the same column must not silently replace it.
    const stale = await server.push(a, [upsert('stock', 'r1', { sku: 'A again' }, { gen: 3, base: aWrote })]);
    expect(stale.results[0]).toMatchObject({ outcome: 'conflict', values: { sku: 'from B' } });
    const merged = await server.push(b, [upsert('stock', 'r1', { price: 2.5 }, { gen: 2, base })]);
    expect(merged.results[0]).toMatchObject({ outcome: 'merged', values: { sku: 'from B', qty: 1, price: 2.5 } });
  });

  it.each([
    ['an unknown conflict id', 'no-such-id', decide('loser'), 404, 'not_found'],
    ['a choice that is not loser, winner or values', null, decide('maybe'), 400, 'bad_request'],
    ['empty hand-edited values', null, decide({ values: {} }), 400, 'bad_request'],
    ['a value of the wrong type', null, decide({ values: { title: 42 } }), 400, 'invalid_value'],
    ['an unknown column', null, decide({ values: { colour: 'red' } }), 400, 'unknown_column'],
    ['an unsupported protocol version', null, { protocol: 99, choice: 'loser' }, 400, 'unsupported_protocol'],
  ])('%s is refused with a JSON error and changes nothing', async (_name, id, body, status, code) => {
    const { server, entry } = await openConflict();
    const before = server.snapshot();
    const response = await server.resolve(id ?? entry.id, body);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ code });
    expect(server.snapshot()).toEqual(before);
  });
});

describe('replica priority at registration', () => {
  it('a priority outside 0–100 fails the registration and registers nothing', async () => {
    const server = start({ replicaPriority: () => 150, log: () => undefined });
    await server.store.meta(); // the store has made its tables
    const before = server.snapshot();
    const response = await server.post('/v1/replicas', { protocol: PROTOCOL_VERSION, schemaVersion: 1 });
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: 'internal' });
    expect(server.snapshot()).toEqual(before);
  });

  it('the priority is decided from the registration request and answered to the replica', async () => {
    const server = start({
      replicaPriority: ({ request }) => Number(request.headers.get('x-branch-rank') ?? 0),
    });
    const response = await server.request('/v1/replicas', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-branch-rank': '75' },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: 1 }),
    });
    expect(await response.json()).toMatchObject({ priority: 75 });
  });
});
