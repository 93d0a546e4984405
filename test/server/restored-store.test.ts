import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openReplica, type Replica } from '@concord/client';
import { createSqliteStore, createSyncServer, type Store } from '@concord/server';
import { testSchema } from '../support/test-server';
import { useTestWorld } from '../support/test-world';
import type { Cursor } from '../../client/src/storage/replica-state';
import { rememberCursor } from '../../client/src/sync/cursor-history';

/**
 * A sync server on a SQLite file whose file can be copied away (a backup) and copied back (a
 * restore), or removed (a replaced store), between requests, as an operator would.
 */
function restorableServer() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-restore-'));
  const filename = join(dir, 'store.db');
  let store: Store;
  let app: ReturnType<typeof createSyncServer>;
  const open = () => {
    store = createSqliteStore({ filename });
    app = createSyncServer({ schema: testSchema, store, log: (error) => console.error(error) });
  };
  const offline = async (work: () => void) => {
    await store.close(); // a clean close checkpoints the WAL into the file
    work();
    open();
  };
  open();
  return {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise.resolve(app.request(input as string, init)),
    get store() {
      return store;
    },
    backup: () => offline(() => copyFileSync(filename, `${filename}.backup`)),
    restore: () =>
      offline(() => {
        for (const suffix of ['-wal', '-shm']) rmSync(`${filename}${suffix}`, { force: true });
        copyFileSync(`${filename}.backup`, filename);
      }),
    replace: () => offline(() => rmSync(filename)),
    async rows(table: string) {
      const page = await store.changesSince({ after: 0, limit: 1_000_000 });
      const live = page.rows.filter((row) => row.table === table && !row.deleted);
      return Object.fromEntries(live.map((row) => [row.rowguid, row.values]));
    },
    async conflicts() {
      return store.listConflicts({ limit: 1000 });
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
    exists: () => existsSync(filename),
  };
}

const world = useTestWorld();
let current: ReturnType<typeof restorableServer> | undefined;
let counter = 0;

/** A restorable server for this test, closed after it once its replicas are. */
function start() {
  const server = restorableServer();
  world.cleanup(() => server.close());
  return (current = server);
}

async function replica(): Promise<Replica> {
  const opened = await openReplica({
    schema: testSchema,
    url: 'http://concord.test',
    fetch: current!.fetch,
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    name: `restore-${++counter}`,
    events: new EventTarget(),
  });
  return world.track(opened);
}

async function rowsOf(replica: Replica, table = 'notes') {
  const rows = (await replica.db.table(table).toArray()) as Record<string, unknown>[];
  return Object.fromEntries(rows.map(({ id, ...values }) => [id, values]));
}

/** Syncs every replica until a pass moves nothing, then checks each equals the server. */
async function settle(...replicas: Replica[]) {
  for (let pass = 0; pass < 5; pass++) {
    let moved = false;
    for (const r of replicas) {
      const report = await r.sync();
      moved ||= report.uploaded > 0 || report.downloaded > 0;
    }
    if (!moved) break;
  }
  const expected = await current!.rows('notes');
  for (const r of replicas) {
    expect(await rowsOf(r)).toEqual(expected);
    expect(await r.db.table('_changes').count()).toBe(0);
    expect(r.status.error).toBeNull();
  }
}

describe('a store restored from a backup', () => {
  it('gets back every change a replica made and had acknowledged after the backup: updates, inserts and deletes', async () => {
    const server = start();
    const a = await replica();
    const b = await replica();
    await a.db.table('notes').bulkPut([
      { id: 'x', title: 'before' },
      { id: 'z', title: 'doomed' },
    ]);
    await a.sync();
    await b.sync();
    await server.backup();

    await a.db.table('notes').put({ id: 'x', title: 'after the backup' });
    await a.db.table('notes').put({ id: 'y', title: 'new after the backup' });
    await a.db.table('notes').delete('z');
    await a.sync(); // acknowledged: the replica's outbox is empty
    expect(await a.db.table('_changes').count()).toBe(0);
    await b.sync();
    await server.restore();
    expect(await server.rows('notes')).toEqual({ x: { title: 'before' }, z: { title: 'doomed' } });

    await a.sync();
    await b.sync();
    await settle(a, b);
    expect(await server.rows('notes')).toEqual({
      x: { title: 'after the backup' },
      y: { title: 'new after the backup' },
    });
    expect(await server.conflicts()).toEqual([]);
  });

  it('a replica whose cursor the restored store reached again under other commits gets the rows written there', async () => {
    const server = start();
    const a = await replica();
    const b = await replica();
    const c = await replica();
    await a.db.table('notes').put({ id: 'n1', title: 'one' });
    await a.sync();
    await b.sync();
    await c.sync();
    await server.backup();
    await a.db.table('notes').put({ id: 'n2', title: 'two, lost by the restore' });
    await a.sync();
    await b.sync(); // b's cursor now stands on a commit the restored store will not have
    await server.restore();
    // c writes past b's cursor on the restored store: the same generations, other rows.
    await c.db.table('notes').bulkPut([
      { id: 'c1', title: 'from c' },
      { id: 'c2', title: 'from c too' },
    ]);
    await c.sync();

    await b.sync();
    expect(await rowsOf(b)).toMatchObject({ c1: { title: 'from c' }, c2: { title: 'from c too' } });
    await settle(a, b, c);
    expect(Object.keys(await server.rows('notes')).sort()).toEqual(['c1', 'c2', 'n1', 'n2']);
    expect(await server.conflicts()).toEqual([]);
  });

  it('a change another replica made on the restored store to a row whose newer version was lost is a logged conflict, not a silent overwrite', async () => {
    const server = start();
    const a = await replica();
    const c = await replica();
    await a.db.table('notes').put({ id: 'n1', title: 'one' });
    await a.sync();
    await c.sync();
    await server.backup();
    await a.db.table('notes').put({ id: 'n1', title: 'a, after the backup' });
    await a.sync();
    await server.restore();
    await c.db.table('notes').put({ id: 'n1', title: 'c, on the restored store' });
    await c.sync();

    await a.sync();
    await settle(a, c);
    const conflicts = await server.conflicts();
    expect(conflicts).toHaveLength(1);
    const values = [conflicts[0]!.winningValues, conflicts[0]!.losingValues];
    expect(values).toEqual(
      expect.arrayContaining([{ title: 'a, after the backup' }, { title: 'c, on the restored store' }]),
    );
  });

  it('restored to before a replica registered, the replica registers anew and uploads its rows', async () => {
    const server = start();
    const a = await replica();
    await a.db.table('notes').put({ id: 'early', title: 'from a' });
    await a.sync();
    await server.backup();
    const late = await replica();
    await late.db.table('notes').put({ id: 'late', title: 'from a replica the backup never saw' });
    await late.sync();
    const oldId = late.status.replicaId;
    await server.restore();

    await late.sync();
    expect(late.status.replicaId).not.toBe(oldId);
    await settle(a, late);
    expect(await server.rows('notes')).toEqual({
      early: { title: 'from a' },
      late: { title: 'from a replica the backup never saw' },
    });
  });
});

describe('a replaced store', () => {
  it('gets every replica’s rows back, and rows several replicas hold alike are no conflicts', async () => {
    const server = start();
    const a = await replica();
    const b = await replica();
    await a.db.table('notes').bulkPut([
      { id: 'n1', title: 'one' },
      { id: 'n2', title: 'two' },
    ]);
    await a.sync();
    await b.sync();
    await server.replace();

    await a.sync();
    await b.sync();
    await settle(a, b);
    expect(await server.rows('notes')).toEqual({ n1: { title: 'one' }, n2: { title: 'two' } });
    expect(await server.conflicts()).toEqual([]);
  });
});

describe('the cursors a replica keeps to find what it shares with a restored store', () => {
  it('are the latest eight and one per power of two before them, in order', () => {
    let history: Cursor[] = [];
    for (let generation = 1; generation <= 5_000; generation += 7) {
      history = rememberCursor(history, { generation, commit: `c${generation}` });
    }
    const generations = history.map((cursor) => cursor.generation);
    expect(generations).toEqual([...generations].sort((a, b) => a - b));
    expect(generations.slice(-8)).toEqual([4_950, 4_957, 4_964, 4_971, 4_978, 4_985, 4_992, 4_999]);
    expect(history.length).toBeLessThanOrEqual(8 + 13);
    // Any older generation has a kept cursor within a factor of two below it.
    for (const generation of [3, 100, 1_000, 4_000]) {
      expect(generations.some((kept) => kept <= generation && kept > generation / 2 - 8)).toBe(true);
    }
    // A cursor that goes back (a recovery starts again from 0) drops the cursors past it.
    expect(rememberCursor(history, { generation: 50, commit: 'new' }).at(-1)).toEqual({
      generation: 50,
      commit: 'new',
    });
    expect(rememberCursor(history, { generation: 50, commit: 'new' }).every((c) => c.generation <= 50)).toBe(true);
  });
});
