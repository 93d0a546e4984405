import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type FromServerConflicts, type FromServerPush } from '@concord/shared';
import { storeKinds } from './store-fixtures';
import { useStoreWorld } from './store-world';
import { upsert } from '../support/test-server';
import { useTestWorld } from '../support/test-world';

const world = useStoreWorld();
const { each, start } = world;

/**
 * Hostile and careless requests, over every store: each must get a 4xx JSON answer or have its
 * bad change rejected on its own, and never a 500, a stored name a store cannot hold, or an
 * answer too large to build.
 */
describe.each(storeKinds)('$name store', (kind) => {
  each(kind);
  const push = async (replicaId: string, from: number, changes: unknown[]) =>
    world.server().post('/v1/push', {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId,
      secret: world.server().secretOf(replicaId),
      fromLocalGeneration: from,
      toLocalGeneration: from,
      changes,
    });

  describe('U+0000, which PostgreSQL text cannot hold', () => {
    it('in a rowguid or an unknown table name: that change is rejected, the others apply', async () => {
      const server = start();
      const a = (await server.register()).replicaId;
      const response = await push(a, 1, [
        { table: 'notes', rowguid: 'a\u0000b', values: { title: 'x' } },
        { table: 'no\u0000table', rowguid: 'r', values: { title: 'x' } },
        { table: 'notes', rowguid: 'good', values: { title: 'g' } },
      ]);
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as FromServerPush;
      expect(results.map((r) => r.outcome)).toEqual(['rejected', 'rejected', 'applied']);
      expect((await server.conflicts()).conflicts.every((entry) => !JSON.stringify(entry).includes('\\u0000'))).toBe(
        true,
      );
    });

    it.each([
      ['a replicaId in a push', '/v1/push', 'POST', 400],
      ['a conflict id to resolve', `/v1/conflicts/${encodeURIComponent('c\u0000')}/resolve`, 'POST', 404],
      ['a table filter of the conflict list', `/v1/conflicts?table=${encodeURIComponent('t\u0000')}`, 'GET', 400],
      ['an after of the conflict list', `/v1/conflicts?after=${encodeURIComponent('\u0000')}`, 'GET', 400],
    ])('in %s → %s, not a 500', async (_name, path, method, status) => {
      const server = start();
      const body =
        path === '/v1/push'
          ? {
              protocol: PROTOCOL_VERSION,
              schemaVersion: 1,
              replicaId: 'r\u0000',
              secret: 's',
              fromLocalGeneration: 1,
              toLocalGeneration: 1,
              changes: [],
            }
          : { protocol: PROTOCOL_VERSION, choice: 'winner' };
      const response = method === 'GET' ? await server.request(path) : await server.post(path, body);
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ code: expect.any(String) });
    });
  });

  it('a refused change nested too deep to serialize is rejected on its own, and its values are not logged', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const text = JSON.stringify({
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId: a,
      secret: server.secretOf(a),
      fromLocalGeneration: 1,
      toLocalGeneration: 1,
      changes: [
        { table: 'stock', rowguid: 'deep', values: { extra: 'DEEP' } },
        { table: 'notes', rowguid: 'ok', values: { title: 'fine' } },
      ],
    }).replace('"DEEP"', deep);
    const response = await server.request('/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as FromServerPush;
    expect(results.map((r) => r.outcome)).toEqual(['rejected', 'applied']);
    const [entry] = (await server.conflicts()).conflicts;
    expect(entry).toMatchObject({ rowguid: 'deep', type: 'failed-change', losingValues: null });
  });

  it('the conflict log keeps refused text well-formed, in its values and in its reason', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    await push(a, 1, [
      { table: 'notes', rowguid: 'r1', values: { bogus: 'x\ud800y', ['k\udc00']: 1 } },
      { table: 'stock', rowguid: 'r2', values: { seen: 'a' + '😀'.repeat(40) } },
    ]);
    const body = await (await server.request('/v1/conflicts')).text();
    expect(body).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
    const { conflicts } = JSON.parse(body) as FromServerConflicts;
    expect(conflicts[0]!.losingValues).toEqual({ bogus: 'x\ufffdy', 'k\ufffd': 1 });
  });

  it('the conflict list is bounded by size as well as count, and pages on with more', async () => {
    const server = start({ limits: { maxPullBytes: 50_000 } });
    const a = (await server.register()).replicaId;
    for (let i = 0; i < 12; i++) {
      await push(a, i + 1, [{ table: 'notes', rowguid: `r${i}`, values: { bogus: 'x'.repeat(20_000) } }]);
    }
    const seen: string[] = [];
    let pages = 0;
    for (let after = '', more = true; more; pages++) {
      const page = (await (
        await server.request(`/v1/conflicts?limit=100${after ? `&after=${after}` : ''}`)
      ).json()) as FromServerConflicts;
      expect(JSON.stringify(page.conflicts).length).toBeLessThan(50_000 + 25_000);
      seen.push(...page.conflicts.map((entry) => entry.rowguid));
      after = page.conflicts.at(-1)?.id ?? after;
      more = page.more;
    }
    expect(pages).toBeGreaterThan(3);
    expect(seen).toHaveLength(12);
  });

  it('a refused value larger than the log keeps is left out of it, and the change is still rejected alone', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const response = await push(a, 1, [
      { table: 'notes', rowguid: 'big', values: { bogus: 'x'.repeat(100_000) } },
      { table: 'notes', rowguid: 'ok', values: { title: 'fine' } },
    ]);
    expect(((await response.json()) as FromServerPush).results.map((r) => r.outcome)).toEqual(['rejected', 'applied']);
    expect((await server.conflicts()).conflicts[0]).toMatchObject({ rowguid: 'big', losingValues: null });
  });

  describe('settling a refused change by hand', () => {
    it.each([
      ['200 characters long', 'r'.repeat(200)],
      ['empty', ''],
      ['a lone surrogate', 'abc\ud800'],
    ])(
      'taking the loser of a change whose rowguid is %s is refused: no row is stored under it',
      async (_name, rowguid) => {
        const server = start();
        const a = (await server.register()).replicaId;
        const pushed = (await (
          await push(a, 1, [{ table: 'notes', rowguid, values: { title: 'x' } }])
        ).json()) as FromServerPush;
        const before = await server.store.changesSince({ after: 0, limit: 100 });
        const response = await server.resolve(pushed.results[0]!.conflictId!, {
          protocol: PROTOCOL_VERSION,
          choice: 'loser',
        });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ code: 'invalid_value' });
        expect(await server.store.changesSince({ after: 0, limit: 100 })).toEqual(before);
      },
    );

    it('confirming the refusal (winner) writes nothing, even over a row created since', async () => {
      const server = start();
      const a = (await server.register()).replicaId;
      const b = (await server.register()).replicaId;
      const pushed = (await (
        await push(a, 1, [{ table: 'notes', rowguid: 'R', values: { bogus: 1 } }])
      ).json()) as FromServerPush;
      await server.push(b, [upsert('notes', 'R', { title: 'real data' }, { gen: 1 })]);
      const response = await server.resolve(pushed.results[0]!.conflictId!, {
        protocol: PROTOCOL_VERSION,
        choice: 'winner',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ conflict: { status: 'resolved' } });
      const [row] = (await server.store.changesSince({ after: 0, limit: 100 })).rows;
      expect(row).toMatchObject({ rowguid: 'R', deleted: false, values: { title: 'real data' } });
    });
  });

  it('one small push that touches many large rows is delivered in bounded pages, every row once', async () => {
    const server = start({ limits: { maxPullBytes: 20_000 } });
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const body = 'x'.repeat(10_000);
    for (let i = 0; i < 40; i += 4) {
      await server.push(
        a,
        [0, 1, 2, 3].map((j) => upsert('notes', `n${i + j}`, { body }, { gen: i / 4 + 1 })),
      );
    }
    // One push of 40 one-column updates: a commit of 40 whole rows, 400 KB.
    await server.push(
      a,
      Array.from({ length: 40 }, (_, i) => upsert('notes', `n${i}`, { rank: 1 }, { gen: 11, base: 40 })),
    );
    const seen: string[] = [];
    for (let cursor = 0, more = true; more;) {
      const page = await server.pull(b, cursor, 1_000);
      expect(JSON.stringify(page.changes).length).toBeLessThan(4 * 20_000 + 12_000);
      seen.push(...page.changes.map((change) => change.rowguid));
      [cursor, more] = [page.cursor, page.more];
    }
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
  });
});

describe('protocol values the server echoes', () => {
  // A server on its own SQLite file: these answers do not depend on the store.
  const own = useTestWorld();

  it('a protocol value nested too deep to print → 400 unsupported_protocol, not a 500', async () => {
    const server = own.start();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const response = await server.request('/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"protocol":${deep}}`,
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('unsupported_protocol');
    expect(body.message.length).toBeLessThan(200);
  });

  it('a pull from a cursor past the store, without a commit, is refused with cursor_unknown', async () => {
    const server = own.start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const response = await server.post('/v1/pull', {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId: a.replicaId,
      secret: a.secret,
      after: 500,
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'cursor_unknown' });
  });
});
