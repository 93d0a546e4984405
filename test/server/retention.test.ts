import { describe, expect, it } from 'vitest';
import { purgeExpired } from '@concord/server';
import { serverRows, replicaRows } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();

const DAY = 24 * 60 * 60 * 1000;
const PERIOD = 14 * DAY;

/** A server whose clock the test moves, retention 14 days, purging only when asked. */
function startWithClock() {
  let at = Date.parse('2026-01-01T00:00:00.000Z');
  const server = world.start({ now: () => new Date(at), retention: { periodMs: PERIOD, purgeEveryMs: 0 } });
  return {
    server,
    advance: (ms: number) => void (at += ms),
    purge: () => purgeExpired(server.store, { periodMs: PERIOD, now: () => new Date(at), batch: 2 }),
  };
}

describe('retention', () => {
  it('purges tombstones every live replica has downloaded and settled entries past the period; live replicas converge as before', async () => {
    const { server, advance, purge } = startWithClock();
    const a = await world.replica();
    const b = await world.replica();
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one', rank: 1 },
      { id: 'n2', title: 'two', rank: 2 },
      { id: 'n3', title: 'three', rank: 3 },
    ]);
    await a.sync();
    await b.sync();
    // A conflict settled at once (the first upload wins), then a delete.
    await a.db.table('notes').update('n1', { title: 'from a' });
    await b.db.table('notes').update('n1', { title: 'from b' });
    await a.sync();
    await b.sync();
    await a.db.table('notes').delete('n2');
    await a.sync();
    await b.sync();
    expect(await server.store.listConflicts({ limit: 10 })).toHaveLength(1);

    // Within the period nothing goes; past it, the tombstone and the settled entry do.
    advance(PERIOD - DAY);
    expect(await purge()).toEqual({ tombstones: 0, moves: 0, conflicts: 0 });
    await a.sync();
    await b.sync();
    advance(2 * DAY);
    expect(await purge()).toMatchObject({ tombstones: 1, conflicts: 1 });
    expect((await server.store.changesSince({ after: 0, limit: 10 })).rows.map((row) => row.rowguid)).toEqual([
      'n3',
      'n1',
    ]);

    // Replicas seen within the period go on as before.
    await b.db.table('notes').update('n3', { title: 'later' });
    await b.sync();
    await a.sync();
    for (const device of [a, b]) expect(await replicaRows(device, server)).toEqual(await serverRows(server));
  });

  it('an open conflict stays however old, and so does every replica record', async () => {
    const { server, advance, purge } = startWithClock();
    const a = await world.replica();
    await a.db.table('notes').add({ id: 'n1', title: 'x' });
    await a.sync();
    await server.store.transaction((tx) =>
      tx.addConflicts([
        {
          id: 'c-open',
          table: 'notes',
          rowguid: 'n1',
          columns: ['title'],
          type: 'update-update',
          resolver: 'manual',
          status: 'open',
          winner: null,
          loser: null,
          winningValues: null,
          losingValues: null,
          reason: 'waits for a person',
          replicaId: 'r',
          localGeneration: 1,
          generation: 1,
          createdAt: '2026-01-01T00:00:00.000Z',
        },
      ]),
    );
    advance(3 * PERIOD);
    expect(await purge()).toMatchObject({ conflicts: 0 });
    expect(await server.store.getReplica(a.status.replicaId!)).toBeDefined();
    expect((await server.store.listConflicts({ limit: 10 })).map((entry) => entry.id)).toEqual(['c-open']);
  });

  it('an expired replica uploads its pending edits, an edit of a row deleted and purged meanwhile meets the delete, then it holds exactly the server rows', async () => {
    const { server, advance, purge } = startWithClock();
    const a = await world.replica();
    const b = await world.replica();
    await b.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
      { id: 'n3', title: 'three' },
    ]);
    await b.sync();
    await a.sync();
    // A goes quiet with edits pending; B deletes n2 and keeps syncing.
    await a.db.table('notes').update('n1', { title: 'edited on a' });
    await a.db.table('notes').update('n2', { title: 'edited on a too' });
    await a.db.table('notes').add({ id: 'n4', title: 'new on a' });
    await b.db.table('notes').delete('n2');
    await b.db.table('notes').update('n3', { title: 'edited on b' });
    await b.sync();
    advance(PERIOD + DAY);
    await b.sync();
    expect(await purge()).toMatchObject({ tombstones: 1 });

    const report = await a.sync();
    expect(report.reinitialized).toBe('expired_replica');
    expect(a.status.reinitialized).toMatchObject({ reason: 'expired_replica' });
    const rows = await serverRows(server);
    expect(rows.notes!.n1).toMatchObject({ title: 'edited on a' });
    expect(rows.notes!.n4).toMatchObject({ title: 'new on a' });
    // The edit of n2 met B's purged delete as a conflict, logged: never a silent new row.
    const [logged] = await server.store.listConflicts({ limit: 10 });
    expect(logged).toMatchObject({ rowguid: 'n2', type: 'update-delete', losingValues: expect.anything() });
    expect(await replicaRows(a, server)).toEqual(rows);
    expect(await a.db.table('_changes').count()).toBe(0);
    await b.sync();
    expect(await replicaRows(b, server)).toEqual(rows);
  });
});

describe('an expired replica interrupted while it downloads afresh', () => {
  it('sends a change made meanwhile as it was made: over a purged delete it is a logged conflict, not a new row', async () => {
    const { server, advance, purge } = startWithClock();
    let pulls = 0;
    const a = await world.replica({
      fetch: async (input, init) => {
        // The second download of a's next sync (the fresh one after 409 expired_replica) is cut off.
        if (String(input).endsWith('/v1/pull') && ++pulls === 3) throw new TypeError('network down');
        return server.app.request(input as string, init);
      },
    });
    const b = await world.replica();
    await b.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
    ]);
    await b.sync();
    await a.sync(); // pull 1
    await b.db.table('notes').delete('n2');
    await b.sync();
    advance(PERIOD + DAY);
    await b.sync();
    expect(await purge()).toMatchObject({ tombstones: 1 });

    await expect(a.sync()).rejects.toMatchObject({ code: 'unavailable' }); // pull 2: 409; pull 3: cut off
    await a.db.table('notes').update('n2', { title: 'edited while realigning' });
    await a.sync();
    const [logged] = await server.store.listConflicts({ limit: 10 });
    expect(logged).toMatchObject({ rowguid: 'n2', type: 'update-delete' });
    expect(await replicaRows(a, server)).toEqual(await serverRows(server));
  });
});

describe("a purge past a live replica's cursor", () => {
  it('a replica whose cursor a purge passed (a purge run with a clock ahead) downloads afresh rather than miss a delete', async () => {
    const { server } = startWithClock();
    const a = await world.replica();
    const b = await world.replica();
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
    ]);
    await a.sync();
    await b.sync();
    await a.db.table('notes').delete('n2');
    await a.sync();
    // Another host purges with its clock a month ahead: to it, b is no longer live.
    await purgeExpired(server.store, { periodMs: PERIOD, now: () => new Date(Date.parse('2026-02-01T00:00:00.000Z')) });
    const report = await b.sync();
    expect(report.reinitialized).toBe('expired_replica');
    expect(await b.db.table('notes').get('n2')).toBeUndefined();
    expect(await replicaRows(b, server)).toEqual(await serverRows(server));
  });
});

describe('retention settings', () => {
  it.each([
    [{ periodMs: 0 }, /retention.periodMs must be a positive number/],
    [{ periodMs: -5 }, /retention.periodMs must be a positive number/],
    [{ batch: 0 }, /retention.batch must be a positive number/],
    [{ purgeEveryMs: Number.NaN }, /retention.purgeEveryMs must be a positive number/],
    [{ period: 5 }, /unknown option "period"/],
  ])('the server refuses %j at startup', (retention, message) => {
    expect(() => world.start({ retention: retention as object })).toThrow(message);
  });

  it.each([
    [{ periodMs: 0 }, /retention.periodMs must be a positive number/],
    [{ batch: 0 }, /retention.batch must be a positive number/],
  ])(
    'an on-demand purge refuses %j: it would purge what live replicas need, or never end',
    async (settings, message) => {
      const server = world.start();
      await expect(purgeExpired(server.store, settings)).rejects.toThrow(message);
    },
  );
});
