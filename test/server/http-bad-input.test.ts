import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type FromReplicaChange, type FromServerPush } from '@concord/shared';
import { createTestServer, remove, upsert, type TestServer, type TestServerOptions } from '../support/test-server';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Seeded {
  server: TestServer;
  /** The replica that wrote the seeded rows and won the logged conflict. */
  a: string;
  /** The replica whose edit lost the logged conflict. */
  b: string;
}

/**
 * A fresh server whose store already holds something worth protecting: two registered replicas,
 * rows written by pushes, a pull watermark, and one logged update-update conflict on `notes`.
 */
async function seededServer(options: TestServerOptions = {}): Promise<Seeded> {
  server = createTestServer(options);
  const a = (await server.register()).replicaId;
  const b = (await server.register()).replicaId;
  await server.push(a, [
    upsert('notes', 'n1', { title: 'first' }, { gen: 1 }),
    upsert('notes', 'n2', { title: 'second', rank: 2 }, { gen: 2 }),
  ]);
  await server.push(a, [
    upsert('notes', 'n1', { title: 'edited by a' }, { gen: 3, base: 1, baseValues: { title: 'first' } }),
  ]);
  // b last saw n1 at generation 1, but a has changed it since: equal priority keeps the server's version.
  const fromB = await server.push(b, [
    upsert('notes', 'n1', { title: 'edited by b' }, { gen: 1, base: 1, baseValues: { title: 'first' } }),
  ]);
  expect(fromB.results[0]).toMatchObject({ outcome: 'conflict', values: { title: 'edited by a' } });
  await server.pull(b, 0);
  const { conflicts } = await server.conflicts();
  expect(conflicts).toHaveLength(1);
  expect(conflicts[0]).toMatchObject({
    type: 'update-update',
    winner: a,
    loser: b,
    winningValues: { title: 'edited by a' },
  });
  return { server, a, b };
}

/** The live rows the server holds, keyed `table/rowguid`. */
async function serverRowsOf(s: TestServer): Promise<Map<string, unknown>> {
  const page = await s.store.changesSince({ after: 0, limit: 1_000_000 });
  return new Map(page.rows.filter((row) => !row.deleted).map((row) => [`${row.table}/${row.rowguid}`, row.values]));
}

/** A push body that the server would accept. */
function pushBody(replicaId: string, changes: unknown[] = [upsert('notes', 'n3', { title: 'third' }, { gen: 4 })]) {
  return {
    protocol: PROTOCOL_VERSION,
    schemaVersion: 1,
    replicaId,
    secret: server!.secretOf(replicaId),
    fromLocalGeneration: 4,
    toLocalGeneration: 4,
    changes,
  };
}

function pullBody(replicaId: string) {
  return { protocol: PROTOCOL_VERSION, schemaVersion: 1, replicaId, secret: server!.secretOf(replicaId), after: 0 };
}

function postRaw(s: TestServer, path: string, body: string, headers: Record<string, string> = {}) {
  return s.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

interface ErrorJson {
  code: string;
  message: unknown;
  details?: Record<string, unknown>;
}

/** Asserts the response is the JSON error shape with exactly this status and code. */
async function expectError(response: Response, status: number, code: string): Promise<ErrorJson> {
  const body = (await response.json()) as ErrorJson;
  expect({ status: response.status, code: body.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof body.message).toBe('string');
  expect(body.message).not.toBe('');
  return body;
}

/** Sends a bad request against a seeded store and checks that it is refused and changes nothing. */
async function expectRefusedWithoutChange(
  seeded: Seeded,
  send: () => Promise<Response>,
  status: number,
  code: string,
): Promise<ErrorJson> {
  const before = seeded.server.snapshot();
  const body = await expectError(await send(), status, code);
  expect(seeded.server.snapshot()).toEqual(before);
  return body;
}

describe('a request the server cannot parse is refused and leaves the store untouched', () => {
  it.each([
    ['truncated JSON', '{"protocol":1,"schemaVersion":1,'],
    ['plain text', 'hello'],
    ['an empty body', ''],
    ['JSON with a trailing comma', '{"protocol":1,}'],
  ])('push with %s → 400 invalid_json', async (_name, raw) => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(seeded, () => postRaw(seeded.server, '/v1/push', raw), 400, 'invalid_json');
  });

  it.each(['/v1/pull', '/v1/replicas'])('%s with malformed JSON → 400 invalid_json', async (path) => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(seeded, () => postRaw(seeded.server, path, '{"protocol":'), 400, 'invalid_json');
  });
});

describe('a body that fails the message schema is refused with the zod issues and changes nothing', () => {
  const cases: [string, (replicaId: string) => unknown][] = [
    ['missing changes', (r) => ({ ...pushBody(r), changes: undefined })],
    ['missing protocol', (r) => ({ ...pushBody(r), protocol: undefined })],
    ['missing replicaId', (r) => ({ ...pushBody(r), replicaId: undefined })],
    ['an empty replicaId', (r) => ({ ...pushBody(r), replicaId: '' })],
    [
      'a negative baseGeneration',
      (r) => pushBody(r, [{ ...upsert('notes', 'n3', { title: 'x' }, { gen: 4 }), baseGeneration: -1 }]),
    ],
    [
      'a fractional localGeneration',
      (r) => ({ ...pushBody(r, [upsert('notes', 'n3', { title: 'x' }, { gen: 4.5 })]) }),
    ],
    [
      'a localGeneration of 0',
      (r) => ({ ...pushBody(r, [upsert('notes', 'n3', { title: 'x' }, { gen: 0 })]), fromLocalGeneration: 0 }),
    ],
    ['an unknown top-level field', (r) => ({ ...pushBody(r), sneaky: true })],
    [
      'an unknown field inside a change',
      (r) => pushBody(r, [{ ...upsert('notes', 'n3', { title: 'x' }, { gen: 4 }), extra: 1 }]),
    ],
    ['an unknown op', (r) => pushBody(r, [{ ...upsert('notes', 'n3', { title: 'x' }, { gen: 4 }), op: 'patch' }])],
    ['fromLocalGeneration above toLocalGeneration', (r) => ({ ...pushBody(r), fromLocalGeneration: 5 })],
    [
      'a change outside the announced local range',
      (r) => pushBody(r, [upsert('notes', 'n3', { title: 'x' }, { gen: 7 })]),
    ],
    ['changes that is not an array', (r) => ({ ...pushBody(r), changes: {} })],
    ['a JSON array body', () => []],
    ['a JSON null body', () => null],
    ['a JSON string body', () => 'push'],
  ];

  it.each(cases)('push with %s → 400 bad_request', async (_name, build) => {
    const seeded = await seededServer();
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', build(seeded.a)),
      400,
      'bad_request',
    );
    const issues = body.details?.issues;
    expect(Array.isArray(issues)).toBe(true);
    expect((issues as unknown[]).length).toBeGreaterThan(0);
    for (const issue of issues as unknown[]) {
      expect(issue).toEqual({ path: expect.any(String), message: expect.any(String) });
    }
  });

  it.each<[string, (replicaId: string) => unknown]>([
    ['a negative after', (r) => ({ ...pullBody(r), after: -1 })],
    ['a limit of 0', (r) => ({ ...pullBody(r), limit: 0 })],
    ['missing after', (r) => ({ ...pullBody(r), after: undefined })],
    ['an unknown field', (r) => ({ ...pullBody(r), since: 0 })],
  ])('pull with %s → 400 bad_request, and the pull watermark is not moved', async (_name, build) => {
    const seeded = await seededServer();
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/pull', build(seeded.b)),
      400,
      'bad_request',
    );
    expect(Array.isArray(body.details?.issues)).toBe(true);
  });

  it('register with an unknown field → 400 bad_request and no replica is created', async () => {
    const seeded = await seededServer();
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/replicas', { protocol: PROTOCOL_VERSION, schemaVersion: 1, priority: 100 }),
      400,
      'bad_request',
    );
    expect(body.details?.issues).toEqual([expect.objectContaining({ path: '' })]);
  });
});

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
    server = createTestServer();
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
    server = createTestServer();
    const a = (await server.register()).replicaId;
    const pushed = await server.push(a, [
      upsert('notes', 'same', { title: 'n' }, { gen: 1 }),
      upsert('stock', 'same', { qty: 1 }, { gen: 2 }),
    ]);
    expect(pushed.results.map((r) => r.outcome)).toEqual(['applied', 'applied']);
  });
});

describe('protocol and schema version checks', () => {
  it.each<[string, string, (s: Seeded) => unknown]>([
    ['push', '/v1/push', (s) => ({ ...pushBody(s.a), protocol: 1 })],
    ['pull', '/v1/pull', (s) => ({ ...pullBody(s.b), protocol: 1 })],
    ['register', '/v1/replicas', () => ({ protocol: 1, schemaVersion: 1 })],
    ['push with protocol 0', '/v1/push', (s) => ({ ...pushBody(s.a), protocol: 0 })],
    ['push with protocol "2" as a string', '/v1/push', (s) => ({ ...pushBody(s.a), protocol: '2' })],
  ])('%s with a foreign protocol version → 400 unsupported_protocol', async (_name, path, build) => {
    const seeded = await seededServer();
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post(path, build(seeded)),
      400,
      'unsupported_protocol',
    );
    expect(body.details).toEqual({ supported: [PROTOCOL_VERSION] });
  });

  it('a foreign protocol is reported even when the rest of the body would not parse', async () => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', { protocol: 1, whatever: true }),
      400,
      'unsupported_protocol',
    );
  });

  it.each<[string, string, (s: Seeded) => unknown]>([
    ['push', '/v1/push', (s) => ({ ...pushBody(s.a), schemaVersion: 2 })],
    ['pull', '/v1/pull', (s) => ({ ...pullBody(s.b), schemaVersion: 2 })],
    ['register', '/v1/replicas', () => ({ protocol: PROTOCOL_VERSION, schemaVersion: 2 })],
  ])('%s with another schema version → 409 schema_mismatch', async (_name, path, build) => {
    const seeded = await seededServer();
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post(path, build(seeded)),
      409,
      'schema_mismatch',
    );
    expect(body.details).toEqual({ server: 1 });
  });
});

describe('requests naming an unregistered replica', () => {
  it('push from an unknown replicaId → 404 unknown_replica, nothing written', async () => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', pushBody('no-such-replica')),
      404,
      'unknown_replica',
    );
  });

  it('an empty push from an unknown replicaId → 404 unknown_replica', async () => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', pushBody('no-such-replica', [])),
      404,
      'unknown_replica',
    );
  });

  it('pull by an unknown replicaId → 404 unknown_replica, no watermark recorded', async () => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/pull', pullBody('no-such-replica')),
      404,
      'unknown_replica',
    );
  });
});

describe('size limits', () => {
  const oversized = (s: Seeded) =>
    JSON.stringify(pushBody(s.a, [upsert('notes', 'big', { title: 'x'.repeat(5 * 1024) }, { gen: 4 })]));

  it('a body over limits.maxBodyBytes → 413 payload_too_large (no content-length header)', async () => {
    const seeded = await seededServer({ limits: { maxBodyBytes: 1024 } });
    const raw = oversized(seeded);
    expect(raw.length).toBeGreaterThan(5 * 1024);
    await expectRefusedWithoutChange(seeded, () => postRaw(seeded.server, '/v1/push', raw), 413, 'payload_too_large');
  });

  it('a body over limits.maxBodyBytes → 413 payload_too_large (declared by content-length)', async () => {
    const seeded = await seededServer({ limits: { maxBodyBytes: 1024 } });
    const raw = oversized(seeded);
    const body = await expectRefusedWithoutChange(
      seeded,
      () => postRaw(seeded.server, '/v1/push', raw, { 'content-length': String(Buffer.byteLength(raw)) }),
      413,
      'payload_too_large',
    );
    expect(body.details).toEqual({ maxBodyBytes: 1024 });
  });

  it('an oversized body that is not even JSON is refused for its size, not its syntax', async () => {
    const seeded = await seededServer({ limits: { maxBodyBytes: 1024 } });
    await expectRefusedWithoutChange(
      seeded,
      () => postRaw(seeded.server, '/v1/pull', '{'.repeat(5 * 1024)),
      413,
      'payload_too_large',
    );
  });

  it('a body under limits.maxBodyBytes is accepted', async () => {
    const seeded = await seededServer({ limits: { maxBodyBytes: 1024 } });
    const pushed = await seeded.server.push(seeded.a, [upsert('notes', 'n3', { title: 'small' }, { gen: 4 })]);
    expect(pushed.results[0]!.outcome).toBe('applied');
  });

  it('10,001 changes, past the protocol ceiling, → 413 payload_too_large before they are validated', async () => {
    const seeded = await seededServer();
    const changes = Array.from({ length: 10_001 }, (_, i) => ({ table: 'notes', rowguid: `m${i}` }));
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', pushBody(seeded.a, changes)),
      413,
      'payload_too_large',
    );
    expect(body.details).toEqual({ maxPushChanges: 5_000 });
  });

  it('a valid push with more changes than limits.maxPushChanges → 413 payload_too_large, nothing applied', async () => {
    const seeded = await seededServer({ limits: { maxPushChanges: 3 } });
    const changes = [4, 5, 6, 7].map((gen) => upsert('notes', `m${gen}`, { title: `t${gen}` }, { gen }));
    const body = await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.post('/v1/push', { ...pushBody(seeded.a, changes), toLocalGeneration: 7 }),
      413,
      'payload_too_large',
    );
    expect(body.details).toEqual({ maxPushChanges: 3 });
    // Exactly at the limit is fine.
    const atLimit = await seeded.server.push(seeded.a, changes.slice(0, 3));
    expect(atLimit.results).toHaveLength(3);
  });
});

describe('routes and queries', () => {
  it.each<[string, string, RequestInit | undefined]>([
    ['an unknown path under /v1', '/v1/nope', undefined],
    ['a path outside /v1', '/push', { method: 'POST', body: '{}' }],
    ['the wrong method on a known path', '/v1/push', undefined],
    [
      'POST to a GET-only route',
      '/v1/conflicts',
      { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
    ],
  ])('%s → 404 not_found as JSON', async (_name, path, init) => {
    const seeded = await seededServer();
    await expectRefusedWithoutChange(seeded, () => seeded.server.request(path, init), 404, 'not_found');
  });

  it.each(['?status=nope', '?limit=0', '?limit=1001', '?limit=abc', '?unknown=1'])(
    'GET /v1/conflicts%s → 400 bad_request',
    async (query) => {
      const seeded = await seededServer();
      await expectRefusedWithoutChange(
        seeded,
        () => seeded.server.request(`/v1/conflicts${query}`),
        400,
        'bad_request',
      );
    },
  );
});

describe('content type and origin', () => {
  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['no content type at all', {}],
  ])('a push sent as %s, which any page may send cross-site without a preflight → 415', async (_name, headers) => {
    const seeded = await seededServer();
    const body = JSON.stringify(pushBody(seeded.a));
    await expectRefusedWithoutChange(
      seeded,
      () => seeded.server.request('/v1/push', { method: 'POST', headers, body }),
      415,
      'unsupported_media_type',
    );
  });

  it('JSON with a charset parameter is accepted', async () => {
    const seeded = await seededServer();
    const response = await postRaw(seeded.server, '/v1/push', JSON.stringify(pushBody(seeded.a)), {
      'content-type': 'Application/JSON; charset=utf-8',
    });
    expect(response.status).toBe(200);
  });

  it('without the cors option no origin is allowed; with it, only the configured origin is', async () => {
    const seeded = await seededServer();
    const plain = await seeded.server.request('/v1/health', { headers: { origin: 'https://evil.example' } });
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    await seeded.server.close();

    server = createTestServer({ cors: { origin: 'https://app.example' } });
    const preflight = await server.request('/v1/push', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/content-type/);
    const allowed = await server.request('/v1/health', { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await server.request('/v1/health', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});
