import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { conflictEntry, type ConflictEntry, type RowValues } from '@concord/shared';
import { createSqliteStore, type ReplicaRecord, type Store, type StoredRow } from '@concord/server';

let dir: string;
let filename: string;
let opened: Store[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'concord-store-test-'));
  filename = join(dir, 'store.db');
  opened = [];
});

afterEach(async () => {
  // A store closed by the test rejects a second close; that is expected here.
  for (const store of opened) await store.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function openStore(): Store {
  const store = createSqliteStore({ filename });
  opened.push(store);
  return store;
}

function row(
  table: string,
  rowguid: string,
  generation: number,
  writer: string,
  values: RowValues,
  extra: Partial<StoredRow> = {},
): StoredRow {
  return { table, rowguid, values, deleted: false, generation, writer, priority: 0, ...extra };
}

function replica(replicaId: string, extra: Partial<ReplicaRecord> = {}): ReplicaRecord {
  return {
    replicaId,
    priority: 0,
    createdAt: '2024-05-01T10:00:00.000Z',
    lastSyncAt: null,
    lastAppliedLocalGeneration: 0,
    lastPulledGeneration: 0,
    ...extra,
  };
}

/** A conflict log entry, validated against the wire type so the store is fed what the server would feed it. */
function conflict(id: string, extra: Partial<ConflictEntry> = {}): ConflictEntry {
  return conflictEntry.parse({
    id,
    table: 'notes',
    rowguid: 'n1',
    columns: ['title'],
    type: 'update-update',
    resolver: 'priority',
    status: 'resolved',
    winner: 'r-a',
    loser: 'r-b',
    winningValues: { title: 'from a' },
    losingValues: { title: 'from b' },
    reason: 'equal priority: the version at the server stays',
    replicaId: 'r-b',
    localGeneration: 1,
    generation: 1,
    createdAt: '2024-05-01T10:05:00.000Z',
    ...extra,
  });
}

/** Writes rows in one transaction, each at a freshly allocated generation in the given order. */
async function commitRows(store: Store, rows: Omit<StoredRow, 'generation'>[]): Promise<StoredRow[]> {
  return store.transaction(async (tx) => {
    const first = await tx.allocateGenerations(rows.length);
    const written = rows.map((r, i) => ({ ...r, generation: first + i }));
    await tx.writeRows(written);
    return written;
  });
}

/** Pages through changesSince with a small limit and returns every page. */
async function allPages(store: Store, limit: number, exceptWriter?: string) {
  const pages = [];
  let cursor = 0;
  for (let more = true; more;) {
    const page = await store.changesSince(cursor, limit, exceptWriter);
    expect(page.rows.length).toBeLessThanOrEqual(limit);
    expect(page.rows.every((r) => r.generation > cursor && r.generation <= page.cursor)).toBe(true);
    expect(page.cursor).toBeGreaterThanOrEqual(cursor);
    pages.push({ after: cursor, ...page });
    cursor = page.cursor;
    more = page.more;
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

describe('SQLite store: durability across close and reopen', () => {
  it('rows (including a tombstone and column versions), replicas, conflicts, the generation counter and the epoch survive reopening the file', async () => {
    const first = openStore();
    const { epoch } = await first.meta();
    expect(epoch).toMatch(/\S/);

    const rows: StoredRow[] = [
      row('notes', 'n1', 1, 'r-a', { title: 'hello', pinned: true, rank: 3 }),
      row('notes', 'n2', 2, 'r-b', { title: 'gone' }, { deleted: true, priority: 5 }),
      row(
        'stock',
        's1',
        3,
        'r-a',
        { sku: 'S1', qty: 4, price: 2.5, seen: '2024-05-01', extra: { tags: ['a', 'b'], n: null } },
        {
          priority: 0.5,
          columns: {
            sku: { generation: 3, writer: 'r-a', priority: 0.5 },
            qty: { generation: 3, writer: 'r-a', priority: 0.5 },
          },
        },
      ),
    ];
    const replicas = [
      replica('r-a', { priority: 5, lastAppliedLocalGeneration: 7 }),
      replica('r-b', { lastSyncAt: '2024-05-01T10:06:00.000Z' }),
    ];
    const conflicts = [
      conflict('c-01'),
      conflict('c-02', {
        table: 'stock',
        rowguid: 's1',
        status: 'open',
        winner: null,
        loser: null,
        winningValues: null,
      }),
    ];

    await first.transaction(async (tx) => {
      for (const r of replicas) await tx.putReplica(r);
      expect(await tx.allocateGenerations(3)).toBe(1);
      await tx.writeRows(rows);
      await tx.addConflicts(conflicts);
    });
    await first.notePull('r-b', 3, '2024-05-01T10:07:00.000Z');
    await first.close();

    const second = openStore();
    expect(await second.meta()).toEqual({ epoch, generation: 3 });
    expect(await second.getReplica('r-a')).toEqual(replicas[0]);
    expect(await second.getReplica('r-b')).toEqual({
      ...replicas[1],
      lastPulledGeneration: 3,
      lastSyncAt: '2024-05-01T10:07:00.000Z',
    });
    expect(await second.changesSince(0, 10)).toEqual({ rows, cursor: 3, more: false });
    expect(await second.listConflicts({ limit: 10 })).toEqual(conflicts);
    expect(await second.listConflicts({ limit: 10, status: 'open' })).toEqual([conflicts[1]]);

    const [found, next] = await second.transaction(async (tx) => {
      const found = await tx.getRows(rows.map(({ table, rowguid }) => ({ table, rowguid })));
      return [found, await tx.allocateGenerations(1)] as const;
    });
    expect([...found.values()].sort((x, y) => x.generation - y.generation)).toEqual(rows);
    expect(next).toBe(4);
  });

  it('reopening keeps the epoch; a new file gets a different one', async () => {
    const first = openStore();
    const { epoch } = await first.meta();
    await first.close();
    const again = openStore();
    expect((await again.meta()).epoch).toBe(epoch);
    const other = createSqliteStore({ filename: join(dir, 'other.db') });
    opened.push(other);
    expect((await other.meta()).epoch).not.toBe(epoch);
  });
});

describe('SQLite store: a failed transaction leaves nothing behind', () => {
  it('work that throws after writing rows, allocating generations, logging a conflict and moving a replica watermark is rolled back whole, and the error propagates', async () => {
    const store = openStore();
    const original = row('notes', 'n1', 1, 'r-a', { title: 'kept' });
    await store.transaction(async (tx) => {
      await tx.putReplica(replica('r-a', { lastAppliedLocalGeneration: 5 }));
      await tx.allocateGenerations(1);
      await tx.writeRows([original]);
      await tx.addConflicts([conflict('c-01')]);
    });
    const before = {
      meta: await store.meta(),
      replica: await store.getReplica('r-a'),
      changes: await store.changesSince(0, 100),
      conflicts: await store.listConflicts({ limit: 100 }),
    };

    const boom = new Error('boom after writing');
    const failed = store.transaction(async (tx) => {
      const first = await tx.allocateGenerations(2);
      expect(first).toBe(2);
      await tx.writeRows([
        row('notes', 'n1', first, 'r-a', { title: 'overwritten' }),
        row('notes', 'n2', first + 1, 'r-a', { title: 'new' }, { deleted: true }),
      ]);
      await tx.addConflicts([conflict('c-02', { generation: first })]);
      await tx.putReplica(replica('r-a', { lastAppliedLocalGeneration: 9, lastSyncAt: '2024-05-02T00:00:00.000Z' }));
      await tx.putReplica(replica('r-new'));
      // Inside the transaction the writes are visible...
      expect((await tx.getRows([{ table: 'notes', rowguid: 'n2' }])).size).toBe(1);
      throw boom;
    });
    await expect(failed).rejects.toBe(boom);

    expect(await store.meta()).toEqual(before.meta);
    expect(await store.getReplica('r-a')).toEqual(before.replica);
    expect(await store.getReplica('r-new')).toBeUndefined();
    expect(await store.changesSince(0, 100)).toEqual(before.changes);
    expect(await store.listConflicts({ limit: 100 })).toEqual(before.conflicts);
    const rows = await store.transaction((tx) =>
      tx.getRows([
        { table: 'notes', rowguid: 'n1' },
        { table: 'notes', rowguid: 'n2' },
      ]),
    );
    expect([...rows.values()]).toEqual([original]);

    // No generation was burnt: the next transaction continues right after the last committed one.
    expect(await store.transaction((tx) => tx.allocateGenerations(1))).toBe(2);
  });

  it('the rollback is durable: reopening the file after a failed transaction shows only committed data', async () => {
    const store = openStore();
    await commitRows(store, [
      { table: 'notes', rowguid: 'n1', values: { title: 'a' }, deleted: false, writer: 'r-a', priority: 0 },
    ]);
    await expect(
      store.transaction(async (tx) => {
        await tx.writeRows([row('notes', 'n2', await tx.allocateGenerations(1), 'r-a', { title: 'b' })]);
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    await store.close();

    const reopened = openStore();
    expect((await reopened.meta()).generation).toBe(1);
    expect((await reopened.changesSince(0, 10)).rows.map((r) => r.rowguid)).toEqual(['n1']);
  });
});

describe('SQLite store: changesSince', () => {
  /** Ten rows by two writers, some rewritten later (moving to a new generation), two deleted. */
  async function history(store: Store) {
    const mk = (rowguid: string, writer: string, values: RowValues, deleted = false) => ({
      table: 'notes',
      rowguid,
      values,
      deleted,
      writer,
      priority: 0,
    });
    // Keys deliberately out of alphabetical order relative to generations.
    await commitRows(store, [
      mk('k9', 'r-a', { rank: 1 }),
      mk('k1', 'r-b', { rank: 2 }),
      mk('k5', 'r-a', { rank: 3 }),
      mk('k3', 'r-b', { rank: 4 }),
    ]);
    await commitRows(store, [mk('k7', 'r-a', { rank: 5 }), mk('k2', 'r-a', { rank: 6 }), mk('k8', 'r-b', { rank: 7 })]);
    // k9 rewritten by r-b, k1 deleted by r-a, k4/k6/k0 new; k5 deleted by r-b.
    await commitRows(store, [
      mk('k9', 'r-b', { rank: 10 }),
      mk('k1', 'r-a', { rank: 2 }, true),
      mk('k4', 'r-a', { rank: 11 }),
    ]);
    await commitRows(store, [
      mk('k6', 'r-b', { rank: 12 }),
      mk('k5', 'r-b', { rank: 3 }, true),
      mk('k0', 'r-a', { rank: 13 }),
    ]);
  }

  it('returns rows in generation order, each row once at its latest version, tombstones included', async () => {
    const store = openStore();
    await history(store);
    const page = await store.changesSince(0, 100);
    expect(page.more).toBe(false);
    expect(page.cursor).toBe(13);
    expect(page.rows.map((r) => [r.rowguid, r.generation, r.deleted])).toEqual([
      ['k3', 4, false],
      ['k7', 5, false],
      ['k2', 6, false],
      ['k8', 7, false],
      ['k9', 8, false],
      ['k1', 9, true],
      ['k4', 10, false],
      ['k6', 11, false],
      ['k5', 12, true],
      ['k0', 13, false],
    ]);
    expect(page.rows.find((r) => r.rowguid === 'k1')).toEqual(
      row('notes', 'k1', 9, 'r-a', { rank: 2 }, { deleted: true }),
    );
  });

  it('returns only rows after the given generation', async () => {
    const store = openStore();
    await history(store);
    const page = await store.changesSince(9, 100);
    expect(page.rows.map((r) => r.generation)).toEqual([10, 11, 12, 13]);
    expect(page).toMatchObject({ cursor: 13, more: false });
    expect(await store.changesSince(13, 100)).toEqual({ rows: [], cursor: 13, more: false });
  });

  it.each([1, 2, 3, 4, 9, 10])(
    'paging with limit %i returns every row exactly once and ends at the store generation',
    async (limit) => {
      const store = openStore();
      await history(store);
      const pages = await allPages(store, limit);
      const seen = pages.flatMap((p) => p.rows);
      expect(seen.map((r) => r.generation)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
      expect(new Set(seen.map((r) => r.rowguid)).size).toBe(10);
      expect(pages.slice(0, -1).every((p) => p.more && p.rows.length === limit)).toBe(true);
      expect(pages.at(-1)).toMatchObject({ more: false, cursor: 13 });
    },
  );

  it('leaves out rows last written by exceptWriter, and paging still returns every other row once and reaches the store generation', async () => {
    const store = openStore();
    await history(store);
    const all = (await store.changesSince(0, 100)).rows;
    const notByA = all.filter((r) => r.writer !== 'r-a');
    expect(notByA.map((r) => r.rowguid)).toEqual(['k3', 'k8', 'k9', 'k6', 'k5']);

    const single = await store.changesSince(0, 100, 'r-a');
    expect(single).toEqual({ rows: notByA, cursor: 13, more: false });

    for (const limit of [1, 2, 3]) {
      const pages = await allPages(store, limit, 'r-a');
      expect(pages.flatMap((p) => p.rows)).toEqual(notByA);
      expect(pages.at(-1)).toMatchObject({ more: false, cursor: 13 });
    }
    // A writer that wrote everything after a point gets an empty page whose cursor still advances.
    expect(await store.changesSince(12, 10, 'r-a')).toEqual({ rows: [], cursor: 13, more: false });
  });

  it('an empty store returns an empty page at generation 0', async () => {
    const store = openStore();
    expect(await store.changesSince(0, 10)).toEqual({ rows: [], cursor: 0, more: false });
  });
});

describe('SQLite store: after close()', () => {
  it('every call rejects with unavailable, and transaction work is never run', async () => {
    const store = openStore();
    await commitRows(store, [
      { table: 'notes', rowguid: 'n1', values: { title: 'a' }, deleted: false, writer: 'r-a', priority: 0 },
    ]);
    await store.close();

    const work = vi.fn(async () => 'ran');
    const calls: [string, () => Promise<unknown>][] = [
      ['meta', () => store.meta()],
      ['transaction', () => store.transaction(work)],
      ['changesSince', () => store.changesSince(0, 10)],
      ['getReplica', () => store.getReplica('r-a')],
      ['notePull', () => store.notePull('r-a', 1, '2024-05-01T00:00:00.000Z')],
      ['listConflicts', () => store.listConflicts({ limit: 10 })],
      ['close', () => store.close()],
    ];
    for (const [name, call] of calls) {
      await expect(call(), name).rejects.toMatchObject({ name: 'ConcordError', code: 'unavailable' });
    }
    expect(work).not.toHaveBeenCalled();
  });

  it('close() waits for a transaction already started and lets it commit', async () => {
    const store = openStore();
    const committed = store.transaction(async (tx) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const generation = await tx.allocateGenerations(1);
      await tx.writeRows([row('notes', 'n1', generation, 'r-a', { title: 'a' })]);
      return generation;
    });
    const closed = store.close();
    await expect(committed).resolves.toBe(1);
    await closed;

    const reopened = openStore();
    expect((await reopened.changesSince(0, 10)).rows.map((r) => r.rowguid)).toEqual(['n1']);
  });
});

describe('SQLite store: concurrent transactions are serialized', () => {
  it('a second transaction started before the first finishes runs after it commits and sees its generation and rows', async () => {
    const store = openStore();
    const events: string[] = [];
    const first = store.transaction(async (tx) => {
      events.push('first:start');
      const generation = await tx.allocateGenerations(1);
      await new Promise((resolve) => setTimeout(resolve, 30));
      await tx.writeRows([row('notes', 'n1', generation, 'r-a', { title: 'first' })]);
      events.push('first:end');
      return generation;
    });
    // A read issued meanwhile waits for the first transaction: it never observes it half-done.
    const readBetween = store.changesSince(0, 10);
    const second = store.transaction(async (tx) => {
      events.push('second:start');
      const seen = await tx.getRows([{ table: 'notes', rowguid: 'n1' }]);
      const generation = await tx.allocateGenerations(1);
      await tx.writeRows([row('notes', 'n2', generation, 'r-b', { title: 'second' })]);
      events.push('second:end');
      return { generation, sawFirst: seen.get('notes\u0000n1')?.values };
    });

    expect(await first).toBe(1);
    expect(await second).toEqual({ generation: 2, sawFirst: { title: 'first' } });
    expect(events).toEqual(['first:start', 'first:end', 'second:start', 'second:end']);
    const between = await readBetween;
    expect(between).toMatchObject({ cursor: 1, more: false });
    expect(between.rows.map((r) => [r.rowguid, r.generation])).toEqual([['n1', 1]]);
    expect(await store.meta()).toMatchObject({ generation: 2 });
  });

  it('a transaction queued behind one that fails still runs, on the state before the failure', async () => {
    const store = openStore();
    const failing = store.transaction(async (tx) => {
      await tx.allocateGenerations(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('first fails');
    });
    const next = store.transaction((tx) => tx.allocateGenerations(1));
    await expect(failing).rejects.toThrow('first fails');
    expect(await next).toBe(1);
    expect((await store.meta()).generation).toBe(1);
  });
});
