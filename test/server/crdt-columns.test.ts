import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { defineSchema, type FromReplicaChange } from '@concord/shared';
import { createSqliteStore, mergeText } from '@concord/server';
import { crdtSchema } from '../support/crdt-schema';
import { useTestWorld } from '../support/test-world';
import type { TestServer } from '../support/test-server';

const world = useTestWorld();

const schema = crdtSchema;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const text = (doc: Y.Doc) => doc.getText('text').toString();

/** A device's copy of one field: a Y.Doc whose edits are collected as one update to send. */
function field(state?: string) {
  const doc = new Y.Doc();
  if (state) Y.applyUpdate(doc, Buffer.from(state, 'base64'));
  let since = Y.encodeStateVector(doc);
  return {
    doc,
    edit(edit: (text: Y.Text) => void): string {
      edit(doc.getText('text'));
      const update = Y.encodeStateAsUpdate(doc, since);
      since = Y.encodeStateVector(doc);
      return b64(update);
    },
    take(state: string) {
      Y.applyUpdate(doc, Buffer.from(state, 'base64'));
      since = Y.encodeStateVector(doc);
    },
  };
}

function change(rowguid: string, gen: number, extra: Partial<FromReplicaChange>): FromReplicaChange {
  return { table: 'products', rowguid, op: 'upsert', localGeneration: gen, baseGeneration: 0, ...extra };
}

async function stored(server: TestServer, rowguid: string) {
  const { rows } = await server.store.changesSince({ after: 0, limit: 100 });
  return rows.find((row) => row.rowguid === rowguid);
}

describe('crdt columns on the server', () => {
  it('merges concurrent offline edits to one text, in either order, and logs no conflict', async () => {
    for (const order of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const server = world.start({ schema });
      const a = (await server.register()).replicaId;
      const b = (await server.register()).replicaId;
      const fieldA = field();
      const created = await server.push(a, [
        change('p1', 1, {
          values: { name: 'Tea' },
          crdt: { notes: fieldA.edit((t) => t.insert(0, 'green tea, loose')) },
        }),
      ]);
      expect(created.results[0]).toMatchObject({ outcome: 'applied', crdt: { notes: expect.any(String) } });
      const pulled = await server.pull(b, 0);
      expect(pulled.changes[0]).toMatchObject({ values: { name: 'Tea', notes: 'green tea, loose' } });
      const fieldB = field(pulled.changes[0]!.crdt!.notes);

      // Offline, both edit around the same place: a inserts, b deletes and inserts.
      const fromA = fieldA.edit((t) => t.insert(6, 'jasmine '));
      const fromB = fieldB.edit((t) => {
        t.delete(0, 5);
        t.insert(0, 'GREEN');
        t.insert(t.length, ', 100 g');
      });
      const edits = { a: [a, fromA, 2], b: [b, fromB, 1] } as const;
      for (const who of order) {
        const [replica, update, gen] = edits[who];
        const pushed = await server.push(replica, [
          change('p1', gen, { baseGeneration: created.results[0]!.generation, crdt: { notes: update } }),
        ]);
        expect(pushed.results[0]!.outcome, JSON.stringify(pushed.results[0])).not.toBe('conflict');
        expect(pushed.results[0]!.outcome, JSON.stringify(pushed.results[0])).not.toBe('rejected');
        (who === 'a' ? fieldA : fieldB).take(pushed.results[0]!.crdt!.notes!);
      }
      const expected = new Y.Doc();
      for (const update of [fieldA, fieldB]) Y.applyUpdate(expected, Y.encodeStateAsUpdate(update.doc));
      expect(text(expected)).toContain('jasmine');
      expect(text(expected)).toContain('GREEN');
      expect(text(expected)).toContain(', 100 g');
      const row = (await stored(server, 'p1'))!;
      expect(row.values.notes).toBe(text(expected));
      // Each device ends with the same text once it takes the server's state (as a download brings it).
      for (const device of [fieldA, fieldB]) device.take(row.crdt!.notes!.state);
      expect(text(fieldA.doc)).toBe(text(expected));
      expect(text(fieldB.doc)).toBe(text(expected));
      expect((await server.conflicts()).conflicts).toEqual([]);
    }
  });

  it('sends a replica only the updates it lacks, and the whole state once the log is folded', async () => {
    const server = world.start({ schema });
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const fieldA = field();
    const created = await server.push(a, [
      change('p1', 1, { crdt: { notes: fieldA.edit((t) => t.insert(0, 'long note. '.repeat(2_000))) } }),
    ]);
    const first = await server.pull(b, 0);
    const fieldB = field(first.changes[0]!.crdt!.notes);
    let base = created.results[0]!.generation;
    for (let gen = 2; gen <= 4; gen++) {
      const pushed = await server.push(a, [
        change('p1', gen, { baseGeneration: base, crdt: { notes: fieldA.edit((t) => t.insert(0, `${gen}`)) } }),
      ]);
      base = pushed.results[0]!.generation;
    }
    const later = await server.pull(b, first.cursor);
    const payload = later.changes[0]!.crdt!.notes!;
    const state = (await stored(server, 'p1'))!.crdt!.notes!.state;
    expect(payload.length).toBeLessThan(state.length / 20);
    fieldB.take(payload);
    expect(text(fieldB.doc)).toBe(text(fieldA.doc));

    for (let gen = 5; gen <= 45; gen++) {
      const pushed = await server.push(a, [
        change('p1', gen, { baseGeneration: base, crdt: { notes: fieldA.edit((t) => t.insert(0, 'x')) } }),
      ]);
      base = pushed.results[0]!.generation;
    }
    const folded = (await stored(server, 'p1'))!.crdt!.notes!;
    expect(folded.log.length).toBeLessThanOrEqual(32);
    expect(folded.upTo).toBeGreaterThan(later.cursor);
    const behind = await server.pull(b, later.cursor);
    expect(behind.changes[0]!.crdt!.notes).toBe(folded.state);
    fieldB.take(behind.changes[0]!.crdt!.notes!);
    expect(text(fieldB.doc)).toBe(text(fieldA.doc));
  });

  it('refuses a bad update on its own, logged, and keeps the stored document intact', async () => {
    const server = world.start({ schema });
    const a = (await server.register()).replicaId;
    const fieldA = field();
    await server.push(a, [change('p1', 1, { crdt: { notes: fieldA.edit((t) => t.insert(0, 'kept')) } })]);
    const good = fieldA.edit((t) => t.insert(4, ' and more'));
    const bytes = Buffer.from(good, 'base64');
    const other = new Y.Doc();
    other.getMap('elsewhere').set('x', 1);
    const dependent = field();
    dependent.edit((t) => t.insert(0, 'unseen'));
    const bad = {
      truncated: b64(bytes.subarray(0, bytes.length - 3)),
      random: b64(Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) % 256)),
      text: 'not base64!',
      otherType: b64(Y.encodeStateAsUpdate(other)),
      missingParent: dependent.edit((t) => t.insert(6, ' later')),
      huge: b64(
        (() => {
          const big = new Y.Doc();
          big.getText('text').insert(0, 'x'.repeat(5 * 1024 * 1024));
          return Y.encodeStateAsUpdate(big);
        })(),
      ),
    };
    const names = Object.keys(bad);
    const pushed = await server.push(a, [
      ...names.map((name, i) => change(`p${i + 2}`, 2, { crdt: { notes: bad[name as keyof typeof bad] } })),
      change('p1', 2, { baseGeneration: 1, crdt: { notes: good } }),
    ]);
    expect(pushed.results.slice(0, names.length).map((result) => result.outcome)).toEqual(names.map(() => 'rejected'));
    expect(pushed.results.at(-1)).toMatchObject({ outcome: 'applied' });
    expect((await stored(server, 'p1'))!.values.notes).toBe('kept and more');
    for (let i = 0; i < names.length; i++) expect(await stored(server, `p${i + 2}`)).toBeUndefined();
    const logged = (await server.conflicts()).conflicts;
    expect(logged.map((entry) => entry.type)).toEqual(names.map(() => 'failed-change'));
    // Broken onto a row that exists, it leaves the row's document as it was.
    const again = await server.push(a, [change('p1', 3, { baseGeneration: 2, crdt: { notes: bad.truncated } })]);
    expect(again.results[0]!.outcome).toBe('rejected');
    expect((await stored(server, 'p1'))!.values.notes).toBe('kept and more');
  });

  it('refuses at startup a resolver for a crdt column: its edits are merged, never resolved', () => {
    expect(() => world.start({ schema, resolvers: { tables: { stock: { columns: { log: mergeText() } } } } })).toThrow(
      /"stock.log" is a crdt column: its edits are merged, never resolved/,
    );
  });

  it('refuses a value for a crdt column, and crdt updates for any other column', async () => {
    const server = world.start({ schema });
    const a = (await server.register()).replicaId;
    const pushed = await server.push(a, [
      change('p1', 1, { values: { notes: 'set directly' } }),
      change('p2', 1, { crdt: { name: field().edit((t) => t.insert(0, 'x')) } }),
      change('p3', 1, { crdt: { ['__proto__']: field().edit((t) => t.insert(0, 'x')) } }),
    ]);
    expect(pushed.results.map((result) => [result.outcome, result.reason])).toEqual([
      ['rejected', expect.stringMatching(/"products.notes" is a crdt column/)],
      ['rejected', expect.stringMatching(/"products.name" is not a crdt column/)],
      ['rejected', expect.stringMatching(/"products.__proto__" is not a crdt column/)],
    ]);
  });

  it('an edit to a deleted row meets the delete as an update-delete conflict, decided by the table rules', async () => {
    const server = world.start({ schema });
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const fieldA = field();
    await server.push(a, [
      change('p1', 1, { values: { name: 'Tea' }, crdt: { notes: fieldA.edit((t) => t.insert(0, 'note')) } }),
    ]);
    const fieldB = field((await server.pull(b, 0)).changes[0]!.crdt!.notes);
    await server.push(a, [{ table: 'products', rowguid: 'p1', op: 'delete', localGeneration: 2, baseGeneration: 1 }]);
    const pushed = await server.push(b, [
      change('p1', 1, { baseGeneration: 1, crdt: { notes: fieldB.edit((t) => t.insert(4, ' from b')) } }),
    ]);
    expect(pushed.results[0]!.outcome).toBe('conflict');
    const [entry] = (await server.conflicts()).conflicts;
    expect(entry).toMatchObject({ type: 'update-delete' });
    const row = (await stored(server, 'p1'))!;
    // Whichever way the rules decide, a live row holds the edit and a deleted one is gone whole.
    if (!row.deleted) expect(row.values.notes).toBe('note from b');
  });

  it("keeps the document across a reopened SQLite file, with column tracking and through other columns' writes", async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'concord-crdt-')), 'store.db');
    const server = world.start({ schema, store: createSqliteStore({ filename }) });
    const a = (await server.register()).replicaId;
    const log = field();
    await server.push(a, [
      {
        table: 'stock',
        rowguid: 's1',
        op: 'upsert',
        localGeneration: 1,
        baseGeneration: 0,
        values: { qty: 1 },
        crdt: { log: log.edit((t) => t.insert(0, 'counted')) },
      },
    ]);
    await server.push(a, [
      { table: 'stock', rowguid: 's1', op: 'upsert', localGeneration: 2, baseGeneration: 1, values: { qty: 2 } },
    ]);
    await server.close();
    const again = createSqliteStore({ filename });
    const { rows } = await again.changesSince({ after: 0, limit: 10 });
    expect(rows[0]).toMatchObject({ values: { qty: 2, log: 'counted' } });
    expect(text(field(rows[0]!.crdt!.log!.state).doc)).toBe('counted');
    await again.close();
  });
});

describe('crdt columns and older schema versions', () => {
  it('an older replica edits and reads a renamed crdt column under the name it knows', async () => {
    const v1 = defineSchema({ version: 1, tables: { docs: { columns: { body: 'string' }, crdt: ['body'] } } });
    const v2 = defineSchema({
      version: 2,
      tables: { docs: { columns: { text: 'string' }, crdt: ['text'] } },
      migrations: [{ version: 2, renamed: { docs: { body: 'text' } } }],
    });
    const server = world.start({ schema: v2, olderSchemas: [v1] });
    const post = async (path: string, body: object) =>
      (await server.post(path, { protocol: 2, schemaVersion: 1, ...body })).json() as Promise<Record<string, unknown>>;
    const { replicaId, secret } = (await post('/v1/replicas', {})) as { replicaId: string; secret: string };
    const old = field();
    const pushed = await post('/v1/push', {
      replicaId,
      secret,
      fromLocalGeneration: 1,
      toLocalGeneration: 1,
      changes: [{ table: 'docs', rowguid: 'd1', crdt: { body: old.edit((t) => t.insert(0, 'from v1')) } }],
    });
    expect(pushed).toMatchObject({ results: [{ outcome: 'applied', crdt: { body: expect.any(String) } }] });
    expect((await stored(server, 'd1'))!.values).toEqual({ text: 'from v1' });
    const pulled = (await post('/v1/pull', { replicaId, secret, after: 0, own: true })) as {
      changes: { values: object; crdt: Record<string, string> }[];
    };
    expect(pulled.changes[0]).toMatchObject({ values: { body: 'from v1' }, crdt: { body: expect.any(String) } });
    expect(text(field(pulled.changes[0]!.crdt.body).doc)).toBe('from v1');
  });
});
