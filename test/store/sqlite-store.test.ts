import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type Store, type StoredRow } from '@concord/server';
import { commitRows, conflict, replica, row } from './store-fixtures';
import { addHash, rowHasher } from '@concord/shared';

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
    expect(await second.meta()).toEqual({
      epoch,
      generation: 3,
      partitions: '',
      schemaVersion: 0,
      schemaMigration: null,
    });
    expect(await second.getReplica('r-a')).toEqual(replicas[0]);
    expect(await second.getReplica('r-b')).toEqual({
      ...replicas[1],
      lastPulledGeneration: 3,
      lastSyncAt: '2024-05-01T10:07:00.000Z',
    });
    expect(await second.changesSince({ after: 0, limit: 10 })).toEqual({
      rows,
      removals: [],
      purged: 0,
      cursor: 3,
      commit: await second.commitAt(3),
      more: false,
    });
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

describe('SQLite store: a failed transaction leaves nothing behind on disk', () => {
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
    expect((await reopened.changesSince({ after: 0, limit: 10 })).rows.map((r) => r.rowguid)).toEqual(['n1']);
  });
});

describe('SQLite store: concurrent transactions are serialized', () => {
  it('a read issued while a transaction runs waits for it in the queue and sees it whole, and a later transaction sees its rows', async () => {
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
    const readBetween = store.changesSince({ after: 0, limit: 10 });
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

describe('SQLite store: the file it owns', () => {
  it('creates the directories the file needs', async () => {
    const deep = join(dir, 'a', 'b', 'c', 'store.db');
    const store = createSqliteStore({ filename: deep });
    opened.push(store);
    await commitRows(store, [{ ...row('notes', 'n1', 0, 'r-a', { title: 'x' }) }]);
    expect((await store.meta()).generation).toBe(1);
  });

  it('refuses a second store on the same file while the first is open, and opens once it is closed', async () => {
    const first = openStore();
    await first.meta();
    expect(() => createSqliteStore({ filename })).toThrow(/is in use by another Concord server/);
    await first.close();
    const second = openStore();
    expect((await second.meta()).generation).toBe(0);
  });
});

describe('SQLite store: the file as other tools read it', () => {
  it('keeps the generation counter as integer text', async () => {
    const store = openStore();
    await commitRows(store, [
      { table: 'notes', rowguid: 'n1', values: {}, deleted: false, writer: 'r-a', priority: 0 },
    ]);
    await commitRows(store, [
      { table: 'notes', rowguid: 'n2', values: {}, deleted: false, writer: 'r-a', priority: 0 },
    ]);
    await store.close();
    const db = new Database(filename, { readonly: true });
    expect(db.prepare("SELECT value FROM meta WHERE key = 'generation'").get()).toEqual({ value: '2' });
    db.close();
  });
});

describe('SQLite store: a file made by an older version', () => {
  it('gains the columns added since, and its replicas keep their records, with no secret and no subject', async () => {
    const old = new Database(filename);
    old.exec(`CREATE TABLE replicas (replica_id TEXT PRIMARY KEY, priority REAL NOT NULL, created_at TEXT NOT NULL,
      last_sync_at TEXT, last_applied_local_generation INTEGER NOT NULL, last_pulled_generation INTEGER NOT NULL)`);
    old
      .prepare('INSERT INTO replicas VALUES (?, ?, ?, ?, ?, ?)')
      .run('r-old', 5, '2024-05-01T10:00:00.000Z', null, 3, 2);
    old.close();

    const store = openStore();
    expect(await store.getReplica('r-old')).toEqual(
      replica('r-old', { priority: 5, lastAppliedLocalGeneration: 3, lastPulledGeneration: 2 }),
    );
    await store.transaction((tx) => tx.putReplica(replica('r-new', { subject: 'alice', secretHash: 'cd'.repeat(32) })));
    expect(await store.getReplica('r-new')).toMatchObject({ subject: 'alice', secretHash: 'cd'.repeat(32) });
  });

  it('gives rows written before rows kept a hash theirs, so checksums count them', async () => {
    const old = new Database(filename);
    old.exec(`CREATE TABLE rows (tbl TEXT NOT NULL, rowguid TEXT NOT NULL, data TEXT NOT NULL, deleted INTEGER NOT NULL,
      generation INTEGER NOT NULL, writer TEXT NOT NULL, priority REAL NOT NULL, columns TEXT,
      PRIMARY KEY (tbl, rowguid))`);
    const insert = old.prepare('INSERT INTO rows VALUES (?, ?, ?, 0, ?, ?, 0, NULL)');
    old.transaction(() => {
      for (let i = 1; i <= 1_500; i++) insert.run('notes', `n${i}`, JSON.stringify({ title: `t${i}` }), i, 'r-old');
    })();
    old.close();

    const store = openStore();
    const rowHash = await rowHasher();
    let checksum = 0;
    for (let i = 1; i <= 1_500; i++) checksum = addHash(checksum, rowHash(`n${i}`, { title: `t${i}` }));
    expect((await store.checksums({ tables: ['notes'] })).get('notes')).toEqual({ count: 1_500, checksum });
  });
});
