import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import type { Resolver } from '@concord/shared';
import { useTestWorld } from '../support/test-world';
import { resolverConfig } from './fuzz-config';
import { expectConverged, serverRows } from '../support/test-replica';

/**
 * Regressions found while fuzzing, around edits made while a push was in flight or after its
 * answer was lost: an edit the server has already merged must not go up again and overwrite the
 * merge it lost, the replica must learn what the merge brought in, and its later edits must
 * still conflict with other replicas' values that the merge kept.
 */

/** The larger number wins, as a merge (so the merged row is written on the uploader's behalf). */
const larger: Resolver = {
  name: 'larger',
  resolve: ({ server, client, columns }) => ({
    kind: 'merge',
    values: Object.fromEntries(
      columns.map((c) => [c, Math.max(Number(server.values?.[c] ?? 0), Number(client.values?.[c] ?? 0))]),
    ),
  }),
};

const world = useTestWorld();
const { replica } = world;

/** A fetch that runs `before` once, just before the next push leaves, and may lose that push's response. */
function pushHook(options: { before?: () => Promise<void>; loseResponse?: boolean; dropRequest?: boolean }) {
  let armed = false;
  return {
    arm: () => (armed = true),
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const push = armed && String(input).endsWith('/v1/push');
      if (push) armed = false;
      if (push) await options.before?.();
      if (push && options.dropRequest) throw new TypeError('request lost');
      const response = await world.server().app.request(input as string, init);
      if (push && options.loseResponse) throw new TypeError('response lost');
      return response;
    },
  };
}

describe.each([
  ['notes', 'rank', 'title', 'later'],
  ['stock', 'qty', 'sku', 'later'],
] as const)('%s: a merged edit is not sent again', (table, column, other, later) => {
  const setUp = async (a: Replica, b: Replica) => {
    await a.db.table(table).add({ id: 'r1', [column]: 10, [other]: 'first' });
    await a.sync();
    await b.sync();
    await b.db.table(table).update('r1', { [column]: 50 });
    await b.sync();
    await a.db.table(table).update('r1', { [column]: 30 });
  };

  it('a row edited again while its conflicting upload is in flight keeps the merged value', async () => {
    const server = world.start({ resolvers: { default: larger } });
    const late: { a?: Replica } = {};
    const hook = pushHook({
      before: async () => void (await late.a!.db.table(table).update('r1', { [other]: later })),
    });
    const a = (late.a = await replica({ fetch: hook.fetch }));
    const b = await replica();
    await setUp(a, b);
    hook.arm();
    await a.sync();
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server))[table]!.r1).toMatchObject({ [column]: 50, [other]: later });
  });

  it('a row edited again after its conflicting upload lost its response keeps the merged value', async () => {
    const server = world.start({ resolvers: { default: larger } });
    const hook = pushHook({ loseResponse: true });
    const a = await replica({ fetch: hook.fetch });
    const b = await replica();
    await setUp(a, b);
    hook.arm();
    await expect(a.sync()).rejects.toThrow('response lost');
    await a.db.table(table).update('r1', { [other]: later });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server))[table]!.r1).toMatchObject({ [column]: 50, [other]: later });
  });
});

describe('a lost push answer', () => {
  it('a row edited again after its upload lost its response still takes the columns the server merged in', async () => {
    const server = world.start({ resolvers: { default: { name: 'client', resolve: () => ({ kind: 'client' }) } } });
    const hook = pushHook({ loseResponse: true });
    const a = await replica({ fetch: hook.fetch });
    const b = await replica();
    await b.db.table('notes').add({ id: 'n3', body: 'from b' });
    await b.sync();
    // An insert of the same rowguid: the uploaded version wins, over b's row, so b's body stays.
    await a.db.table('notes').add({ id: 'n3', rank: 1 });
    hook.arm();
    await expect(a.sync()).rejects.toThrow('response lost');
    await a.db.table('notes').put({ id: 'n3', rank: 3 });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).notes!.n3).toEqual({ body: 'from b', rank: 3 });
  });
});

describe("a merge written on the uploader's behalf before it knew", () => {
  /** Row tracking, numbers merged by their maximum; b's row is at the server, a's insert of it is not. */
  const start = async (first: Record<string, unknown>) => {
    const server = world.start({ resolvers: resolverConfig('max-merge') });
    const hook = pushHook({ dropRequest: true });
    const a = await replica({ fetch: hook.fetch });
    const b = await replica();
    await b.db.table('notes').add({ id: 'n0', rank: 10 });
    await b.sync();
    await a.db.table('notes').add({ id: 'n0', ...first });
    hook.arm();
    await expect(a.sync()).rejects.toThrow('request lost');
    return { server, a, b };
  };

  it("an edit made before the replica saw the merge still conflicts with the other replica's value", async () => {
    const { server, a, b } = await start({ title: 'from a' });
    await a.db.table('notes').update('n0', { rank: 7 });
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).notes!.n0).toEqual({ title: 'from a', rank: 10 });
  });

  it("a delete made before the replica saw the merge conflicts with the other replica's row", async () => {
    const { server, a, b } = await start({ rank: 1 });
    await a.db.table('notes').delete('n0');
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).notes!.n0).toEqual({ rank: 10 });
    expect((await server.conflicts()).conflicts.map((c) => c.type)).toEqual(['insert-insert', 'delete-update']);
  });
});

describe('a column-tracked merge', () => {
  it('an edit made while its merged upload was in flight still conflicts with a newer value of that column', async () => {
    const server = world.start();
    const late: { a?: Replica } = {};
    const hook = pushHook({ before: async () => void (await late.a!.db.table('stock').update('s0', { seen: AFTER })) });
    const a = (late.a = await replica({ fetch: hook.fetch }));
    const b = await replica();
    await a.db.table('stock').add({ id: 's0', sku: 'S0' });
    await a.sync();
    await b.sync();
    await b.db.table('stock').update('s0', { seen: FROM_B });
    await b.sync();
    // a has not seen b's date; its qty merges with it, and its own date is written meanwhile.
    await a.db.table('stock').update('s0', { qty: 5 });
    hook.arm();
    await a.sync();
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).stock!.s0).toEqual({ sku: 'S0', qty: 5, seen: FROM_B });
    const { conflicts } = await server.conflicts();
    expect(conflicts.map((c) => [c.columns, c.losingValues])).toEqual([[['seen'], { seen: AFTER }]]);
  });
});

describe('a replayed delete', () => {
  it("a row re-created after a delete whose push was lost still conflicts with another replica's delete", async () => {
    const server = world.start();
    const hook = pushHook({ dropRequest: true });
    const a = await replica();
    const b = await replica({ fetch: hook.fetch });
    await a.db.table('notes').add({ id: 'n1', pinned: true });
    await a.sync();
    await b.sync();
    await b.db.table('notes').delete('n1');
    hook.arm();
    await expect(b.sync()).rejects.toThrow('request lost');
    await b.db.table('notes').put({ id: 'n1', rank: 2 });
    // Meanwhile a deletes the row: the replayed delete lands on a's tombstone.
    await a.db.table('notes').delete('n1');
    await a.sync();
    await b.sync();
    await a.sync();

    await expectConverged(server, a, b);
    expect((await server.conflicts()).conflicts.map((c) => c.type)).toEqual(['update-delete']);
  });
});

describe('a delete after a lost edit', () => {
  it('a delete made after an edit whose push was lost conflicts with a column another replica set meanwhile', async () => {
    const server = world.start({ resolvers: resolverConfig('max-merge') });
    const hook = pushHook({ dropRequest: true });
    const a = await replica({ fetch: hook.fetch });
    const b = await replica();
    await a.db.table('notes').add({ id: 'n3', rank: 1 });
    await a.sync();
    await b.sync();
    await a.db.table('notes').update('n3', { rank: 5 });
    hook.arm();
    await expect(a.sync()).rejects.toThrow('request lost');
    await a.db.table('notes').delete('n3');
    await b.db.table('notes').update('n3', { body: 'from b' });
    await b.sync();
    // The replayed edit merges with b's body on a's behalf; the delete never saw that body.
    await a.sync();
    await b.sync();

    await expectConverged(server, a, b);
    expect((await serverRows(server)).notes!.n3).toEqual({ rank: 5, body: 'from b' });
  });
});

const FROM_B = '2024-02-01T00:00:00.000Z';
const AFTER = '2024-03-01T00:00:00.000Z';
