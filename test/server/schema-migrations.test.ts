import { describe, expect, it } from 'vitest';
import { createMemoryDatabase, createMemoryStore } from '@concord/server';
import { currentName, defineSchema, valuesForVersion, valuesToCurrent } from '@concord/shared';
import { reusedNameV1, reusedNameV3 } from '../support/reused-name-schemas';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();

const tables = { notes: { columns: { c: 'string', d: 'string' } } } as const;

describe('migrations in the schema', () => {
  it('map a column through every later version: renamed, renamed again, or removed', () => {
    const schema = defineSchema({
      version: 4,
      tables: { notes: { columns: { c: 'string', d: 'string' }, tracking: 'column' } },
      migrations: [
        { version: 3, renamed: { notes: { b: 'c' } }, removed: { notes: ['x'] } },
        { version: 2, renamed: { notes: { a: 'b', y: 'x' } } },
      ],
    });
    expect(schema.migrations.map((m) => m.version)).toEqual([2, 3]);
    expect(currentName(schema.migrations, 'notes', 'a', 1)).toBe('c');
    expect(currentName(schema.migrations, 'notes', 'b', 2)).toBe('c');
    expect(currentName(schema.migrations, 'notes', 'y', 1)).toBeUndefined();
    expect(currentName(schema.migrations, 'notes', 'a', 3)).toBe('a');
    expect(valuesToCurrent(schema, 'notes', { a: '1', y: '2', d: '3' }, 1)).toEqual({ c: '1', d: '3' });
    const v1 = defineSchema({ version: 1, tables: { notes: { columns: { a: 'string', y: 'string', d: 'string' } } } });
    expect(valuesForVersion(schema, v1, 'notes', { c: '1', d: '3' })).toEqual({ a: '1', d: '3' });
  });

  it('are refused at definition when they cannot hold', () => {
    const define = (migrations: unknown) =>
      defineSchema({ version: 3, tables, migrations } as Parameters<typeof defineSchema>[0]);
    expect(() => define([{ version: 1 }])).toThrow(/migration version must be an integer from 2 to 3/);
    expect(() => define([{ version: 4 }])).toThrow(/from 2 to 3/);
    expect(() => define([{ version: 2 }, { version: 2 }])).toThrow(/two migrations lead to version 2/);
    expect(() => define([{ version: 2, renamed: { gone: { a: 'c' } } }])).toThrow(/names table "gone"/);
    expect(() => define([{ version: 2, renamed: { notes: { a: 'z' } } }])).toThrow(
      /renames "notes.a" to "z", which is neither a column of version 3 nor renamed or removed later/,
    );
    expect(() => define([{ version: 2, removed: { notes: ['__proto__'] } }])).toThrow(/column "notes.__proto__"/);
    expect(() =>
      define([
        { version: 2, renamed: { notes: { a: 'z' } } },
        { version: 3, renamed: { notes: { z: 'c' } } },
      ]),
    ).not.toThrow();
  });
});

describe('a server started on rows of an older schema version', () => {
  const v1 = defineSchema({
    version: 1,
    tables: { stock: { columns: { name: 'string', legacy: 'string', qty: 'integer' }, tracking: 'column' } },
  });
  const v2 = defineSchema({
    version: 2,
    tables: { stock: { columns: { title: 'string', qty: 'integer' }, tracking: 'column' } },
    migrations: [{ version: 2, renamed: { stock: { name: 'title' } }, removed: { stock: ['legacy'] } }],
  });

  it('renames the stored values and column versions, keeps generations, and records the version', async () => {
    const database = createMemoryDatabase();
    const old = world.start({ schema: v1, store: createMemoryStore({ database }) });
    const { replicaId } = await old.register();
    await old.push(replicaId, [
      {
        table: 'stock',
        rowguid: 's1',
        op: 'upsert',
        localGeneration: 1,
        baseGeneration: 0,
        values: { name: 'bolt', legacy: 'x', qty: 1 },
      },
    ]);
    const before = (await old.store.changesSince({ after: 0, limit: 10 })).rows[0]!;
    const server = world.start({ schema: v2, olderSchemas: [v1], store: createMemoryStore({ database }) });
    expect((await server.request('/v1/conflicts')).status).toBe(200);
    const [row] = (await server.store.changesSince({ after: 0, limit: 10 })).rows;
    expect(row).toMatchObject({ values: { title: 'bolt', qty: 1 }, generation: before.generation });
    expect(Object.keys(row!.columns!).sort()).toEqual(['qty', 'title']);
    expect((await server.store.meta()).schemaVersion).toBe(2);
    // The old server, still running on the same data, now serves nothing.
    const refused = await old.pull(replicaId, 0).catch((error: Error) => error.message);
    expect(refused).toMatch(/HTTP 503.*newer than this server's 1/);
  });
});

describe('a migration of the stored rows', () => {
  const [v1, v3] = [reusedNameV1, reusedNameV3];

  async function seeded(rows: number) {
    const database = createMemoryDatabase();
    const old = world.start({ schema: v1, store: createMemoryStore({ database }) });
    const { replicaId } = await old.register();
    const changes = Array.from({ length: rows }, (_, i) => ({
      table: 'items',
      rowguid: `i${String(i).padStart(5, '0')}`,
      op: 'upsert' as const,
      localGeneration: Math.floor(i / 1_000) + 1,
      baseGeneration: 0,
      values: { name: `name ${i}`, label: `label ${i}` },
    }));
    for (let i = 0; i < rows; i += 1_000) {
      await old.push(replicaId, changes.slice(i, i + 1_000), { from: i / 1_000 + 1, to: i / 1_000 + 1 });
    }
    await old.close();
    return database;
  }

  it('maps every row once, even with two servers starting on it at once', async () => {
    const database = await seeded(2_500);
    const first = world.start({ schema: v3, olderSchemas: [v1], store: createMemoryStore({ database }) });
    const second = world.start({ schema: v3, olderSchemas: [v1], store: createMemoryStore({ database }) });
    const answers = await Promise.all([first.request('/v1/conflicts'), second.request('/v1/conflicts')]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const { rows } = await first.store.changesSince({ after: 0, limit: 10_000 });
    expect(rows).toHaveLength(2_500);
    for (const [i, row] of rows.entries()) expect(row.values).toEqual({ title: `name ${i}`, name: `label ${i}` });
    expect(await first.store.meta()).toMatchObject({ schemaVersion: 3, schemaMigration: null });
  });

  it('resumes an interrupted migration where it stopped', async () => {
    const database = await seeded(2_500);
    const store = createMemoryStore({ database });
    // A migration stopped after its first batch: those rows are done, the rest are not.
    const { rows } = await store.changesSince({ after: 0, limit: 1_000 });
    await store.transaction(async (tx) => {
      await tx.writeRows(rows.map((row) => ({ ...row, values: { title: row.values.name!, name: row.values.label! } })));
      await tx.setSchemaState({ version: 3, migration: { from: 1, after: rows.at(-1)!.generation } });
    });
    const server = world.start({ schema: v3, olderSchemas: [v1], store });
    expect((await server.request('/v1/conflicts')).status).toBe(200);
    const all = (await server.store.changesSince({ after: 0, limit: 10_000 })).rows;
    for (const [i, row] of all.entries()) expect(row.values).toEqual({ title: `name ${i}`, name: `label ${i}` });
  });
});
