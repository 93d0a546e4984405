import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { createMemoryDatabase, createMemoryStore } from '@concord/server';
import { defineSchema, type Schema, type SchemaInput } from '@concord/shared';
import { openNodeReplica } from '../support/node-replica';
import { expectConverged, serverRows } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();

const v1 = defineSchema({
  version: 1,
  tables: { notes: { columns: { title: 'string', pinned: 'boolean', rank: 'integer' } } },
});
/** v2 renames `title` to `heading`, removes `pinned`, adds `color` and the `tags` table. */
const v2Input = {
  version: 2,
  tables: {
    notes: { columns: { heading: 'string', rank: 'integer', color: 'string' }, indexes: ['heading'] },
    tags: { columns: { label: 'string' } },
  },
  migrations: [{ version: 2, renamed: { notes: { title: 'heading' } }, removed: { notes: ['pinned'] } }],
} satisfies SchemaInput;
const v2 = defineSchema(v2Input);

/** A server that can be restarted on the same data with another schema; replicas follow it. */
function upgradable() {
  const database = createMemoryDatabase();
  let server = world.start({ schema: v1, store: createMemoryStore({ database }) });
  const devices = new Map<string, IDBFactory>();
  return {
    get server() {
      return server;
    },
    /** Restarts the server with v2; resolves once it has migrated the stored rows (requests wait for that). */
    async upgrade() {
      server = world.start({ schema: v2, olderSchemas: [v1], store: createMemoryStore({ database }) });
      expect((await server.request('/v1/conflicts')).status).toBe(200);
    },
    /** The replica called `name` (its database kept between openings) with the app's `schema`. */
    async open(name: string, schema: Schema): Promise<Replica> {
      if (!devices.has(name)) devices.set(name, new IDBFactory());
      return world.track(
        await openNodeReplica({
          schema,
          name,
          indexedDB: devices.get(name)!,
          fetch: (input, init) => Promise.resolve(server.app.request(input as string, init)),
        }),
      );
    },
  };
}

describe('schema evolution with pending edits', () => {
  it('a v1 replica keeps syncing with a v2 server, upgrades with its outbox, and nothing is lost', async () => {
    const world2 = upgradable();
    const a = await world2.open('a', v1);
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'one', pinned: true, rank: 1 },
      { id: 'n2', title: 'two', rank: 2 },
    ]);
    await a.sync();
    const b = await world2.open('b', v1);
    await b.sync();

    // b edits offline: the renamed column, the removed one, and a new row.
    await b.db.table('notes').update('n2', { title: 'two, edited on b' });
    await b.db.table('notes').update('n1', { pinned: false });
    await b.db.table('notes').add({ id: 'n4', title: 'four', pinned: true });

    await world2.upgrade();
    // The server's rows now have v2's columns.
    expect((await serverRows(world2.server)).notes).toEqual({
      n1: { heading: 'one', rank: 1 },
      n2: { heading: 'two', rank: 2 },
    });

    // a, still at v1, keeps working: its edits land under the new names, and it reads the old ones.
    await a.db.table('notes').update('n1', { title: 'one, edited on a' });
    await a.db.table('notes').add({ id: 'n3', title: 'three', pinned: false, rank: 3 });
    expect(await a.sync()).toMatchObject({ rejected: 0 });
    expect((await serverRows(world2.server)).notes).toMatchObject({
      n1: { heading: 'one, edited on a', rank: 1 },
      n3: { heading: 'three', rank: 3 },
    });
    // Its copy of the removed column stays until the row changes or it upgrades: the server no longer has it.
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'one, edited on a', rank: 1, pinned: true });
    // An edit to the removed column alone lands as nothing, and it takes the server's row.
    await a.db.table('notes').update('n3', { pinned: true });
    expect(await a.sync()).toMatchObject({ rejected: 0, conflicts: 0 });
    expect(await a.db.table('notes').get('n3')).toEqual({ id: 'n3', title: 'three', rank: 3 });
    // A row of v2's new table never goes down to it.
    const a2early = await world2.open('c', v2);
    await a2early.sync();
    await a2early.db.table('tags').add({ id: 't1', label: 'urgent' });
    await a2early.db.table('notes').update('n3', { color: 'red' });
    await a2early.sync();
    await a.sync();
    expect(await a.db.table('notes').get('n3')).toEqual({ id: 'n3', title: 'three', rank: 3 });

    // b reloads with the v2 app: its database upgrades with its outbox, mapped.
    await b.close();
    const b2 = await world2.open('b', v2);
    expect(b2.status.pending).toBe(2); // the edit to n2 and the insert of n4; the pinned-only edit is gone
    expect(await b2.db.table('notes').get('n4')).toEqual({ id: 'n4', heading: 'four' });
    expect(await b2.db.table('notes').where('heading').equals('four').count()).toBe(1);
    const report = await b2.sync();
    expect(report).toMatchObject({ rejected: 0, conflicts: 0 });
    expect((await serverRows(world2.server)).notes).toMatchObject({
      n2: { heading: 'two, edited on b', rank: 2 },
      n4: { heading: 'four' },
    });
    // It downloaded afresh: the columns and tables it never received under v1 are there now.
    expect(await b2.db.table('notes').get('n3')).toEqual({ id: 'n3', heading: 'three', rank: 3, color: 'red' });
    expect(await b2.db.table('tags').get('t1')).toEqual({ id: 't1', label: 'urgent' });
    expect(await b2.validate()).toMatchObject({ ok: true });

    // a reloads with the v2 app too; everyone ends equal.
    await a.sync();
    expect(await a.db.table('notes').get('n4')).toEqual({ id: 'n4', title: 'four' });
    await a.close();
    const a2 = await world2.open('a', v2);
    await a2.sync();
    await a2early.sync();
    await expectConverged(world2.server, a2, b2, a2early);
  });

  it('refuses an app newer than the server, one older than any version it serves, and validation of an old one', async () => {
    const world2 = upgradable();
    await world2.upgrade();
    const post = (path: string, body: object) => world2.server.post(path, { protocol: 2, ...body });
    const v3 = await post('/v1/replicas', { schemaVersion: 3 });
    expect(v3.status).toBe(409);
    expect(await v3.json()).toMatchObject({
      code: 'schema_mismatch',
      details: { server: 2, served: [1, 2], replica: 3, update: 'server' },
    });
    const newer = await world2.open('newer', defineSchema({ ...v2Input, version: 3 }));
    await expect(newer.sync()).rejects.toMatchObject({ code: 'schema_mismatch' });
    expect(newer.status.error).toMatchObject({ code: 'schema_mismatch', details: { update: 'server' } });
    const old = await world2.open('old', v1);
    await old.sync();
    await expect(old.validate()).rejects.toMatchObject({ code: 'schema_mismatch', details: { update: 'replica' } });
    const health = await (await world2.server.request('/v1/health')).json();
    expect(health).toMatchObject({ schemaVersion: 2, schemaVersions: [1, 2] });
  });

  it("checks an older replica's changes against its own version: no table, column or type it lacks gets through", async () => {
    const world2 = upgradable();
    await world2.upgrade();
    const post = async (path: string, body: object) => {
      const response = await world2.server.post(path, { protocol: 2, schemaVersion: 1, ...body });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const { body: registered } = await post('/v1/replicas', {});
    const { replicaId, secret } = registered as { replicaId: string; secret: string };
    const newer = await world2.open('newer', v2);
    await newer.db.table('tags').add({ id: 't1', label: 'secret' });
    await newer.sync();
    const upsert = (rowguid: string, values: object, extra: object = {}) => ({
      table: 'notes',
      rowguid,
      op: 'upsert',
      values,
      ...extra,
    });
    const { status, body } = await post('/v1/push', {
      replicaId,
      secret,
      fromLocalGeneration: 1,
      toLocalGeneration: 1,
      changes: [
        { table: 'tags', rowguid: 't1', op: 'upsert', values: { label: 'from v1' }, blind: true },
        upsert('n1', { title: 'a', heading: 'b' }),
        upsert('n2', { pinned: 'not a boolean' }),
        upsert('n3', { color: 'red' }),
        upsert('n4', { title: 'fine', pinned: true }),
      ],
    });
    expect(status).toBe(200);
    const results = body.results as { rowguid: string; outcome: string; reason?: string; values?: unknown }[];
    expect(results.map(({ rowguid, outcome, reason }) => [rowguid, outcome, reason])).toEqual([
      ['t1', 'rejected', 'unknown table "tags"'],
      ['n1', 'rejected', expect.stringMatching(/heading/)],
      ['n2', 'rejected', expect.stringMatching(/notes\.pinned must be boolean/)],
      ['n3', 'rejected', expect.stringMatching(/color/)],
      ['n4', 'merged', undefined],
    ]);
    expect(results[0]!.values).toBeNull(); // nothing of a table it lacks comes back
    expect(results[4]!.values).toEqual({ title: 'fine' });
    expect((await serverRows(world2.server)).notes).toEqual({ n4: { heading: 'fine' } });
    expect((await serverRows(world2.server)).tags).toEqual({ t1: { label: 'secret' } });
    const pulled = await post('/v1/pull', { replicaId, secret, after: 0, tables: ['tags'] });
    expect(pulled).toMatchObject({ status: 400, body: { code: 'unknown_table' } });
  });

  it('refuses at startup an older schema that does not map onto the current one', () => {
    const start = (older: Schema) => world.start({ schema: v2, olderSchemas: [older] });
    const unmapped = defineSchema({ version: 1, tables: { notes: { columns: { title: 'string', body: 'string' } } } });
    expect(() => start(unmapped)).toThrow(/"notes.body" is not in version 2: declare in a migration/);
    const retyped = defineSchema({ version: 1, tables: { notes: { columns: { rank: 'string' } } } });
    expect(() => start(retyped)).toThrow(/changing a column's type is not supported/);
    const dropped = defineSchema({ version: 1, tables: { gone: { columns: {} } } });
    expect(() => start(dropped)).toThrow(/removing or renaming a table is not supported/);
    expect(() => start(v2)).toThrow(/is not older than the schema/);
    const merged = defineSchema({ version: 1, tables: { notes: { columns: { title: 'string', heading: 'string' } } } });
    expect(() => start(merged)).toThrow(/"notes.title" and "notes.heading" both become "heading"/);
  });
});
