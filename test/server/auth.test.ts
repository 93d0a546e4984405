import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type FromServerRegister } from '@concord/shared';
import { createMemoryDatabase, createMemoryStore, createSyncServer, type AuthOptions } from '@concord/server';
import { testSchema, type TestServer } from '../support/test-server';
import { useTestWorld } from '../support/test-world';
import { TOKEN_SECRET, expiredToken, keyPair, tokenFor } from '../support/tokens';

const world = useTestWorld();

/** Requests to `server` as the bearer of `token` (none when undefined). */
function as(server: TestServer, token: string | undefined) {
  const headers = (extra: Record<string, string> = {}) => ({
    ...extra,
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  });
  return {
    get: (path: string) => server.request(path, { headers: headers() }),
    post: (path: string, body: object) =>
      server.request(path, {
        method: 'POST',
        headers: headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: testSchema.version, ...body }),
      }),
  };
}

async function register(server: TestServer, token: string): Promise<FromServerRegister> {
  const response = await as(server, token).post('/v1/replicas', {});
  expect(response.status).toBe(201);
  return (await response.json()) as FromServerRegister;
}

async function expectUnauthorized(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="concord"/);
  expect(await response.json()).toMatchObject({ code: 'unauthorized' });
}

describe('a server with auth (HS256 shared secret)', () => {
  const start = () => world.start({ auth: { secret: TOKEN_SECRET }, log: () => undefined });

  it('health stays open; every other route needs a valid token, the event stream too', async () => {
    const server = start();
    expect((await as(server, undefined).get('/v1/health')).status).toBe(200);
    await expectUnauthorized(await as(server, undefined).post('/v1/replicas', {}));
    await expectUnauthorized(await as(server, undefined).post('/v1/pull', { replicaId: 'r', secret: 's', after: 0 }));
    await expectUnauthorized(await as(server, undefined).post('/v1/push', {}));
    await expectUnauthorized(await as(server, undefined).get('/v1/conflicts'));
    await expectUnauthorized(await as(server, undefined).get('/v1/events'));
    expect((await server.store.meta()).generation).toBe(0);
  });

  it.each([
    ['an expired token', () => expiredToken('alice')],
    ['a token signed with another secret', () => tokenFor('alice', {}, 'another-secret-of-enough-length-for-hs256')],
    ['a token without a subject', () => tokenFor(undefined)],
    ['a token with an empty subject', () => tokenFor('')],
    ['a token not yet valid', () => tokenFor('alice', { nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['a token that is no JWT', async () => 'not.a.jwt'],
    ['a token without an expiry', () => tokenFor('alice', { exp: undefined })],
    ['a token with a subject of more than 1,000 characters', () => tokenFor('a'.repeat(1_001))],
    ['an unsigned token (alg none)', async () => unsigned({ sub: 'alice' })],
  ])('%s is refused with 401 and registers nothing', async (_name, make) => {
    const server = start();
    await server.store.meta(); // the store has made its tables
    const before = server.snapshot();
    await expectUnauthorized(await as(server, await make()).post('/v1/replicas', {}));
    expect(server.snapshot()).toEqual(before);
  });

  it('an event stream ends when its token expires, so a revoked caller does not keep hearing commits', async () => {
    const server = start();
    const token = await tokenFor('alice', { exp: Math.floor(Date.now() / 1000) + 1 });
    const response = await as(server, token).get('/v1/events');
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const started = Date.now();
    for (let read = await reader.read(); !read.done; read = await reader.read());
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a replica registered by one subject is refused with 403 to another subject, even with its secret', async () => {
    const server = start();
    const alice = await tokenFor('alice');
    const bob = await tokenFor('bob');
    const { replicaId, secret } = await register(server, alice);
    const change = {
      table: 'notes',
      rowguid: 'n1',
      op: 'upsert',
      values: { title: 'x' },
      baseGeneration: 0,
      localGeneration: 1,
    };
    const push = { replicaId, secret, fromLocalGeneration: 1, toLocalGeneration: 1, changes: [change] };

    const refused = await as(server, bob).post('/v1/push', push);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'forbidden' });
    expect((await as(server, bob).post('/v1/pull', { replicaId, secret, after: 0 })).status).toBe(403);
    expect((await server.store.meta()).generation).toBe(0);

    expect((await as(server, alice).post('/v1/push', push)).status).toBe(200);
    expect((await as(server, alice).post('/v1/pull', { replicaId, secret, after: 0, own: true })).status).toBe(200);
    expect(await server.store.getReplica(replicaId)).toMatchObject({ subject: 'alice', lastAppliedLocalGeneration: 1 });
  });

  it('the identity comes from the token alone: a subject in the body is refused, not taken', async () => {
    const server = start();
    const response = await as(server, await tokenFor('alice')).post('/v1/replicas', { subject: 'bob' });
    expect(response.status).toBe(400);
  });

  it('replicaPriority is told the verified identity', async () => {
    const server = world.start({
      auth: { secret: TOKEN_SECRET },
      replicaPriority: ({ identity }) => (identity?.claims.role === 'hq' ? 90 : 10),
    });
    expect((await register(server, await tokenFor('hq-1', { role: 'hq' }))).priority).toBe(90);
    expect((await register(server, await tokenFor('shop-1', { role: 'branch' }))).priority).toBe(10);
  });

  it('a replica registered while the server ran open is unknown to every identity', async () => {
    const database = createMemoryDatabase();
    const { replicaId, secret } = await world.start({ store: createMemoryStore({ database }) }).register();
    const server = world.start({ store: createMemoryStore({ database }), auth: { secret: TOKEN_SECRET } });
    const response = await as(server, await tokenFor('alice')).post('/v1/pull', { replicaId, secret, after: 0 });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'unknown_replica' });
  });
});

/** A token with `alg: none` and no signature. */
function unsigned(payload: object): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
}

describe('ways to verify', () => {
  const registerWith = async (auth: AuthOptions, token: string) =>
    as(world.start({ auth, log: () => undefined }), token).post('/v1/replicas', {});

  it('RS256 with a public key (PEM); a token from another key is refused', async () => {
    const pair = keyPair('rsa');
    expect(
      (await registerWith({ publicKey: pair.publicPem, algorithm: 'RS256' }, await pair.token('alice'))).status,
    ).toBe(201);
    const other = keyPair('rsa');
    await expectUnauthorized(
      await registerWith({ publicKey: pair.publicPem, algorithm: 'RS256' }, await other.token('alice')),
    );
  });

  it('ES256 with a public key (JWK); an HS256 token signed with the key material is refused', async () => {
    const pair = keyPair('ec');
    expect(
      (await registerWith({ publicKey: pair.publicJwk, algorithm: 'ES256' }, await pair.token('alice'))).status,
    ).toBe(201);
    await expectUnauthorized(
      await registerWith(
        { publicKey: pair.publicJwk, algorithm: 'ES256' },
        await tokenFor('alice', {}, pair.publicPem),
      ),
    );
  });

  it('a JWKS given as keys, and one read from its URL, found by kid', async () => {
    const pair = keyPair('ec', 'key-1');
    expect((await registerWith({ jwks: { keys: [pair.publicJwk] } }, await pair.token('alice'))).status).toBe(201);

    const keys = new Hono().get('/jwks.json', (c) => c.json({ keys: [pair.publicJwk] }));
    const jwksServer = serve({ fetch: keys.fetch, port: 0, hostname: '127.0.0.1' });
    world.cleanup(() => new Promise((resolve) => jwksServer.close(resolve)));
    await new Promise((resolve) => jwksServer.once('listening', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    expect((await registerWith({ jwks: { url } }, await pair.token('alice'))).status).toBe(201);
    await expectUnauthorized(await registerWith({ jwks: { url } }, await keyPair('ec', 'key-2').token('alice')));
  });

  it('a key set that cannot be read is 503 unavailable, not the token’s fault; it is read again after a pause, not on every request', async () => {
    const pair = keyPair('ec', 'key-1');
    let up = false;
    let reads = 0;
    const keys = new Hono().get('/jwks.json', (c) => {
      reads++;
      return up ? c.json({ keys: [pair.publicJwk] }) : c.text('down', 502);
    });
    const jwksServer = serve({ fetch: keys.fetch, port: 0, hostname: '127.0.0.1' });
    world.cleanup(() => new Promise((resolve) => jwksServer.close(resolve)));
    await new Promise((resolve) => jwksServer.once('listening', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const server = world.start({ auth: { jwks: { url } }, now: () => new Date(clock), log: () => undefined });
    const token = await pair.token('alice');
    for (let i = 0; i < 3; i++) {
      const refused = await as(server, token).post('/v1/replicas', {});
      expect(refused.status).toBe(503);
      expect(refused.headers.get('www-authenticate')).toBeNull();
      const body = await refused.text();
      expect(JSON.parse(body)).toMatchObject({ code: 'unavailable' });
      expect(body).not.toContain(url);
    }
    expect(reads).toBe(1);
    up = true;
    clock += 31_000;
    expect((await as(server, token).post('/v1/replicas', {})).status).toBe(201);
    expect(reads).toBe(2);

    // A token refused for itself (expired), naming a key the set has, makes no new read.
    clock += 31_000;
    await expectUnauthorized(
      await as(server, await pair.token('alice', { exp: Math.floor(Date.now() / 1000) - 60 })).post('/v1/replicas', {}),
    );
    expect(reads).toBe(2);

    // Keys read once stay in use when a later read fails: the key server going down stops nobody.
    up = false;
    clock += 11 * 60_000;
    expect((await as(server, token).post('/v1/replicas', {})).status).toBe(201);
    expect(reads).toBe(3);
  });

  it('issuer and audience are checked when configured', async () => {
    const auth = { secret: TOKEN_SECRET, issuer: 'https://id.example.com', audience: 'concord' };
    const good = await tokenFor('alice', { iss: 'https://id.example.com', aud: 'concord' });
    expect((await registerWith(auth, good)).status).toBe(201);
    await expectUnauthorized(
      await registerWith(auth, await tokenFor('alice', { iss: 'https://evil.example.com', aud: 'concord' })),
    );
    await expectUnauthorized(await registerWith(auth, await tokenFor('alice', { iss: 'https://id.example.com' })));
  });

  it('a verify function may give no claims, and the event stream still opens; a past exp in its claims is 401', async () => {
    const session: { exp?: number } = {};
    const server = world.start({
      auth: {
        verify: () => ({ subject: 'device-1', ...(session.exp === undefined ? {} : { claims: { exp: session.exp } }) }),
      },
    });
    const abort = new AbortController();
    world.cleanup(() => abort.abort());
    const stream = await server.request('/v1/events', { signal: abort.signal });
    expect(stream.status).toBe(200);
    const { value } = await stream.body!.getReader().read();
    expect(new TextDecoder().decode(value)).toContain('event: hello');
    session.exp = Math.floor(Date.now() / 1000) - 1;
    await expectUnauthorized(await server.request('/v1/events'));
  });

  it('health stays open when the app is mounted under a path', async () => {
    const server = world.start({ auth: { secret: TOKEN_SECRET } });
    const outer = new Hono().route('/sync', server.app);
    expect((await outer.request('/sync/v1/health')).status).toBe(200);
    await expectUnauthorized(await outer.request('/sync/v1/conflicts'));
  });

  it('a verify function of the app: its identity, or 401 when it gives none', async () => {
    const auth: AuthOptions = {
      verify: (request) => {
        const key = request.headers.get('x-api-key');
        return key === 'k-1' ? { subject: 'device-1', claims: { branch: 'north' } } : undefined;
      },
    };
    const server = world.start({ auth });
    const post = (key?: string) =>
      server.request('/v1/replicas', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: 1 }),
      });
    const registered = await post('k-1');
    expect(registered.status).toBe(201);
    const { replicaId } = (await registered.json()) as FromServerRegister;
    expect(await server.store.getReplica(replicaId)).toMatchObject({ subject: 'device-1' });
    await expectUnauthorized(await post('k-2'));
  });

  it.each([
    ['no way at all', {}],
    ['two ways', { secret: TOKEN_SECRET, verify: () => undefined }],
    ['an empty secret', { secret: '' }],
    ['a secret shorter than 32 characters', { secret: 'short-secret' }],
    ['a public key with a symmetric algorithm', { publicKey: 'x', algorithm: 'HS256' }],
    ['a secret of 32 bytes for HS512, which needs 64', { secret: 'x'.repeat(32), algorithm: 'HS512' }],
    ['a secret with an asymmetric algorithm', { secret: 'x'.repeat(64), algorithm: 'RS256' }],
    ['a key set allowed a symmetric algorithm', { jwks: { keys: [] }, algorithms: ['HS256'] }],
    ['a key set allowed no algorithm', { jwks: { keys: [] }, algorithms: [] }],
  ])('%s is refused when the server is made', (_name, auth) => {
    expect(() =>
      createSyncServer({ schema: testSchema, store: world.start().store, auth: auth as AuthOptions }),
    ).toThrow(/auth/);
  });
});
