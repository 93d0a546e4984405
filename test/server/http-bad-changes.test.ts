import { describe, expect, it } from 'vitest';
import type { FromReplicaChange, FromServerPush } from '@concord/shared';
import { remove, upsert } from '../support/test-server';
import { expectRefusedWithoutChange, postRaw, serverRowsOf, useBadInputWorld } from './bad-input-support';

const { start, seededServer, pushBody } = useBadInputWorld();

describe('a change that does not fit the schema is rejected on its own, logged, and the rest of its push applies', () => {
  /**
   * Pushes `bad` (a change, or a change as raw JSON text) between two valid changes and checks: the push succeeds, `bad` is rejected with a
   * reason matching `reason` and the row as the server holds it, nothing of it is stored, it is
   * logged as a failed change, and both valid changes apply.
   */
  async function expectRejectedAlone(bad: unknown, reason: RegExp, resolver = 'schema') {
    const seeded = await seededServer();
    const s = seeded.server;
    const changes = [
      upsert('notes', 'n3', { title: 'new before' }, { gen: 4 }),
      bad,
      upsert('notes', 'n1', { title: 'edit after' }, { gen: 6, base: 3 }),
    ];
    const before = (await s.conflicts()).conflicts.length;
    // A raw change is spliced in as text: JSON.stringify would turn 1e309 into null before it is sent.
    const whole = JSON.stringify({ ...pushBody(seeded.a, changes), toLocalGeneration: 6 });
    const text = typeof bad === 'string' ? whole.replace(JSON.stringify(bad), bad) : whole;
    const response = await postRaw(s, '/v1/push', text);
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as FromServerPush;
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'rejected', 'applied']);
    expect(results[1]!.reason).toMatch(reason);
    const { conflicts } = await s.conflicts();
    expect(conflicts).toHaveLength(before + 1);
    const logged = conflicts.find((entry) => entry.id === results[1]!.conflictId)!;
    expect(logged).toMatchObject({ type: 'failed-change', resolver, loser: seeded.a, status: 'resolved' });
    expect(logged.reason).toMatch(reason);
    const rows = await serverRowsOf(s);
    expect(rows.get('notes/n3')).toEqual({ title: 'new before' });
    expect(rows.get('notes/n1')).toMatchObject({ title: 'edit after' });
    // The push was acknowledged whole: sent again, it is a replay.
    const replay = await postRaw(s, '/v1/push', text);
    expect(((await replay.json()) as FromServerPush).results.map((r) => r.outcome)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    return { results, rows, logged, seeded };
  }

  it.each<[string, FromReplicaChange]>([
    ['an upsert', upsert('tasks', 't1', { title: 'x' }, { gen: 5 })],
    ['a delete', remove('tasks', 't1', { gen: 5, base: 0 })],
  ])('%s to an unknown table is rejected as unknown and stores no row of it', async (_name, change) => {
    const { results, rows } = await expectRejectedAlone(change, /unknown table "tasks"/, 'name');
    expect(results[1]).toMatchObject({ table: 'tasks', rowguid: 't1', deleted: true, values: null });
    expect([...rows.keys()].some((key) => key.startsWith('tasks/'))).toBe(false);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'a change to the table "%s", a name every object has, is rejected as an unknown table',
    async (table) => {
      const change = JSON.parse(
        JSON.stringify({ table, rowguid: 'p1', localGeneration: 5, values: { title: 'x' } }),
      ) as unknown;
      const { rows, seeded } = await expectRejectedAlone(change, new RegExp(`unknown table "${table}"`), 'name');
      expect([...rows.keys()].some((key) => key.startsWith(`${table}/`))).toBe(false);
      // Nothing stored can break a download.
      const page = await seeded.server.pull(seeded.b, 0);
      expect(page.changes.map((c) => c.table).every((name) => name === 'notes' || name === 'stock')).toBe(true);
    },
  );

  it.each([
    ['in values', upsert('notes', 'n2', { title: 'x', colour: 'red' }, { gen: 5, base: 2 })],
    ['in base', upsert('notes', 'n2', { title: 'x' }, { gen: 5, base: 2, baseValues: { colour: 'red' } })],
    ['that is a sync metadata name', upsert('notes', 'n2', { generation: 99 }, { gen: 5, base: 2 })],
    [
      'named constructor',
      JSON.parse('{"table":"notes","rowguid":"n2","localGeneration":5,"values":{"constructor":1}}'),
    ],
    [
      'named __proto__',
      JSON.parse('{"table":"notes","rowguid":"n2","localGeneration":5,"values":{"__proto__":{"x":1}}}'),
    ],
    ['named toString', JSON.parse('{"table":"notes","rowguid":"n2","localGeneration":5,"values":{"toString":"x"}}')],
  ])('an unknown column %s is rejected as unknown and the row keeps its values', async (_name, change) => {
    const { results, rows } = await expectRejectedAlone(change, /unknown column "notes\./);
    expect(results[1]).toMatchObject({ deleted: false, values: { title: 'second', rank: 2 } });
    expect(rows.get('notes/n2')).toEqual({ title: 'second', rank: 2 });
  });

  it.each<[string, string, string, unknown]>([
    ['a number in a string column', 'notes', 'title', 42],
    ['a boolean in a string column', 'notes', 'title', true],
    ['a fraction in an integer column', 'notes', 'rank', 1.5],
    ['a numeric string in an integer column', 'notes', 'rank', '3'],
    ['an unsafe integer in an integer column', 'notes', 'rank', 2 ** 53],
    ['a string in a boolean column', 'notes', 'pinned', 'yes'],
    ['a number in a boolean column', 'notes', 'pinned', 1],
    ['a non-date string in a date column', 'stock', 'seen', 'yesterday'],
    ['an impossible date in a date column', 'stock', 'seen', '2024-13-45'],
    ['February 30th in a date column', 'stock', 'seen', '2024-02-30'],
    ['February 29th of a common year in a date column', 'stock', 'seen', '2023-02-29'],
    ['hour 24 in a date column', 'stock', 'seen', '2024-01-01T24:00:00Z'],
    ['a timestamp number in a date column', 'stock', 'seen', 1_700_000_000_000],
    ['an object in a string column', 'notes', 'title', { text: 'x' }],
    ['a lone surrogate in a string column', 'notes', 'title', 'broken \ud800 text'],
    ['a lone surrogate inside a json value', 'stock', 'extra', { note: ['ok', '\udc00'] }],
  ])('%s is rejected as invalid and stores nothing of it', async (_name, table, column, value) => {
    const { results, rows } = await expectRejectedAlone(
      upsert(table, 'row-x', { [column]: value }, { gen: 5 }),
      new RegExp(`${table}\\.${column} must be`),
    );
    expect(results[1]).toMatchObject({ deleted: true, values: null });
    expect(rows.has(`${table}/row-x`)).toBe(false);
  });

  it('a wrongly typed value in base is rejected as invalid', async () => {
    await expectRejectedAlone(
      upsert('notes', 'n2', { title: 'x' }, { gen: 5, base: 2, baseValues: { rank: 'high' } }),
      /notes\.rank must be integer/,
    );
  });

  it.each([
    [
      '1e309, which parses as Infinity',
      '{"table":"stock","rowguid":"s9","localGeneration":5,"values":{"price":1e309}}',
    ],
    ['-1e309 in a json column', '{"table":"stock","rowguid":"s9","localGeneration":5,"values":{"extra":[-1e309]}}'],
  ])('a number JSON cannot hold exactly (%s) is rejected, never stored as null', async (_name, raw) => {
    const { rows } = await expectRejectedAlone(raw, /must be/);
    expect(rows.has('stock/s9')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['200 characters long', 'r'.repeat(200)],
    ['a lone surrogate', 'row-\ud800'],
  ])('a rowguid that is %s is rejected and logged under a printable name', async (_name, rowguid) => {
    const { results, logged } = await expectRejectedAlone(
      upsert('notes', rowguid, { title: 'x' }, { gen: 5 }),
      /rowguid/,
      'name',
    );
    expect(results[1]!.rowguid).toBe(rowguid);
    expect(logged.rowguid.length).toBeLessThanOrEqual(129);
    expect(JSON.stringify(logged.rowguid)).not.toMatch(/\\ud[89ab]/i);
  });

  it('two rowguids that differ only in their lone surrogates are never one row', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    await server.push(a, [upsert('notes', 'k\ufffd', { title: 'kept' }, { gen: 1 })]);
    const pushed = await server.push(a, [
      upsert('notes', 'k\ud800', { title: 'one' }, { gen: 2 }),
      upsert('notes', 'k\udbff', { title: 'two' }, { gen: 3 }),
    ]);
    expect(pushed.results.map((r) => r.outcome)).toEqual(['rejected', 'rejected']);
    expect(pushed.results.map((r) => r.values)).toEqual([null, null]);
    expect((await serverRowsOf(server)).get('notes/k\ufffd')).toEqual({ title: 'kept' });
  });

  it('a delete carrying values → 400 bad_request', async () => {
    const seeded = await seededServer();
    const change: FromReplicaChange = {
      ...remove('notes', 'n2', { gen: 4, base: 2 }),
      values: { title: 'still here' },
    };
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', pushBody(seeded.a, [change])),
      400,
      'bad_request',
    );
    expect(body.details).toEqual({ index: 0 });
  });

  it('the same row twice in one push → 400 bad_request naming the second occurrence', async () => {
    const seeded = await seededServer();
    const changes = [
      upsert('notes', 'n3', { title: 'one' }, { gen: 4 }),
      upsert('notes', 'n4', { title: 'other' }, { gen: 5 }),
      upsert('notes', 'n3', { title: 'two' }, { gen: 6 }),
    ];
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', { ...pushBody(seeded.a, changes), toLocalGeneration: 6 }),
      400,
      'bad_request',
    );
    expect(body.details).toEqual({ index: 2 });
  });

  it('the same rowguid in two different tables is not a duplicate', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const pushed = await server.push(a, [
      upsert('notes', 'same', { title: 'n' }, { gen: 1 }),
      upsert('stock', 'same', { qty: 1 }, { gen: 2 }),
    ]);
    expect(pushed.results.map((r) => r.outcome)).toEqual(['applied', 'applied']);
  });
});
