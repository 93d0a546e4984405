import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { expectConverged, serverRows, replicaRows } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';
import type { TestServer } from '../support/test-server';

const world = useTestWorld();

/** Writes a row straight into the replica's IndexedDB: no tracking, no outbox. */
async function writeBehindItsBack(replica: Replica, table: string, row: Record<string, unknown>): Promise<void> {
  const tx = replica.db.backendDB().transaction(table, 'readwrite');
  tx.objectStore(table).put(row);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
}

/** A fetch to the server that answers 503 to requests for `path` while `held`. */
function holding(path: string, server: TestServer) {
  const hold = {
    held: false,
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      hold.held && String(input).endsWith(path)
        ? Promise.resolve(Response.json({ code: 'unavailable', message: 'held' }, { status: 503 }))
        : Promise.resolve(server.app.request(input as string, init)),
  };
  return hold;
}

async function seeded() {
  const server = world.start();
  const a = await world.replica();
  await a.db.table('notes').bulkAdd([
    { id: 'n1', title: 'one', rank: 1 },
    { id: 'n2', title: 'two', rank: 2 },
    { id: 'n3', title: 'three', rank: 3 },
  ]);
  await a.db.table('stock').bulkAdd([{ id: 's1', sku: 'A', qty: 1, extra: { shelf: [1, 2], bin: 'x' } }]);
  await a.sync();
  const b = await world.replica();
  await b.sync();
  return { server, a, b };
}

describe('validate()', () => {
  it('reports every table equal when the replica holds what the server holds', async () => {
    const { a, b } = await seeded();
    for (const replica of [a, b]) {
      const report = await replica.validate();
      expect(report).toMatchObject({ ok: true, mismatched: [], repaired: [], excluded: 0 });
      expect(report.tables.map(({ table, ok, replica: mine }) => [table, ok, mine.count])).toEqual([
        ['notes', true, 3],
        ['stock', true, 1],
      ]);
      expect(report.tables[0]!.replica).toEqual(report.tables[0]!.server);
    }
  });

  it('finds a row changed in IndexedDB behind the replica, and a repair restores the server version', async () => {
    const { server, b } = await seeded();
    await writeBehindItsBack(b, 'notes', { id: 'n2', title: 'tampered', rank: 2 });
    await writeBehindItsBack(b, 'notes', { id: 'n9', title: 'planted' });

    const found = await b.validate();
    expect(found).toMatchObject({ ok: false, mismatched: ['notes'], repaired: [] });
    expect(found.tables[0]).toMatchObject({ replica: { count: 4 }, server: { count: 3 } });
    expect(found.tables[1]!.ok).toBe(true);

    const repaired = await b.validate({ repair: true });
    expect(repaired).toMatchObject({ ok: true, mismatched: [], repaired: ['notes'] });
    expect(await replicaRows(b, server)).toEqual(await serverRows(server));
  });

  it('finds a row removed on the server behind every replica, and a repair drops it', async () => {
    const { server, a, b } = await seeded();
    const sqlite = new Database(server.filename);
    sqlite.prepare(`DELETE FROM rows WHERE tbl = 'notes' AND rowguid = 'n3'`).run();
    sqlite.close();

    expect(await a.validate()).toMatchObject({ ok: false, mismatched: ['notes'] });
    expect(await b.validate({ repair: true })).toMatchObject({ ok: true, repaired: ['notes'] });
    expect(await b.db.table('notes').get('n3')).toBeUndefined();
    expect(await replicaRows(b, server)).toEqual(await serverRows(server));
  });

  it('leaves pending changes out of both sides, and a repair keeps them', async () => {
    const { server, a } = await seeded();
    const pushes = holding('/v1/push', server);
    pushes.held = true;
    const b = await world.replica({ fetch: pushes.fetch });
    await b.sync().catch(() => undefined);
    await writeBehindItsBack(b, 'notes', { id: 'n1', title: 'tampered', rank: 1 });
    await b.db.table('notes').update('n2', { title: 'mine' });
    await b.db.table('notes').add({ id: 'n4', title: 'new here' });

    const report = await b.validate({ repair: true });
    expect(report).toMatchObject({ ok: true, repaired: ['notes'], excluded: 2 });
    expect(report.tables[0]!.server.count).toBe(2); // n1 and n3: n2 is pending, n4 is not on the server yet
    expect(await b.db.table('notes').get('n1')).toMatchObject({ title: 'one' });
    expect(b.status.pending).toBe(2);

    pushes.held = false;
    await b.sync();
    await a.sync();
    expect(await a.db.table('notes').get('n2')).toMatchObject({ title: 'mine' });
    expect(await a.db.table('notes').get('n4')).toMatchObject({ title: 'new here' });
    await expectConverged(server, a, b);
  });

  it('leaves out rows changed on the server since its last download', async () => {
    const { server, a } = await seeded();
    const pulls = holding('/v1/pull', server);
    const b = await world.replica({ fetch: pulls.fetch });
    await b.sync();
    pulls.held = true;
    await a.db.table('notes').update('n1', { title: 'newer' });
    await a.db.table('notes').delete('n2');
    await a.sync();
    // b cannot download them: it compares the rest.
    const report = await b.validate();
    expect(report).toMatchObject({ ok: true, excluded: 2 });
    expect(report.tables[0]!.server.count).toBe(1);
    expect(await b.db.table('notes').get('n1')).toMatchObject({ title: 'one' });
    pulls.held = false;
    expect(await b.validate()).toMatchObject({ ok: true, excluded: 0 });
    expect(await replicaRows(b, server)).toEqual(await serverRows(server));
  });

  it("refuses another replica's secret, an unknown replica and a malformed request", async () => {
    const { server, a, b } = await seeded();
    const post = (body: unknown) => server.post('/v1/validate', body);
    const request = { protocol: 2, schemaVersion: 1, after: 0, exclude: [] };
    const ids = [a, b].map(async (replica) => {
      const state = await replica.db.table('_state').get('replicaId');
      return state.value as string;
    });
    const [idA] = await Promise.all(ids);
    expect((await post({ ...request, replicaId: idA, secret: 'wrong' })).status).toBe(401);
    expect((await post({ ...request, replicaId: 'nobody', secret: 'x' })).status).toBe(404);
    const bad = await post({ ...request, replicaId: idA, exclude: [{ table: 'notes', rowguid: 'a\u0000b' }] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'bad_request' });
    expect((await post({ ...request, replicaId: idA, schemaVersion: 7 })).status).toBe(409);
  });

  it("a pull of some tables names only the schema's own, and a refused one changes nothing", async () => {
    const { server, a } = await seeded();
    const replicaId = ((await a.db.table('_state').get('replicaId')) as { value: string }).value;
    const secret = ((await a.db.table('_state').get('secret')) as { value: string }).value;
    const before = server.snapshot();
    for (const name of ['__proto__', 'constructor', 'toString', 'nope']) {
      const response = await server.post('/v1/pull', {
        protocol: 2,
        schemaVersion: 1,
        replicaId,
        secret,
        after: 0,
        tables: [name],
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'unknown_table' });
    }
    expect(server.snapshot()).toEqual(before);
    const some = await server.post('/v1/pull', {
      protocol: 2,
      schemaVersion: 1,
      replicaId,
      secret,
      after: 0,
      own: true,
      tables: ['stock'],
    });
    const { changes } = (await some.json()) as { changes: { table: string }[] };
    expect(changes.map((change) => change.table)).toEqual(['stock']);
  });
});
