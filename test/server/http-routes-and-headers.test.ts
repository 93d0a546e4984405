import { describe, expect, it } from 'vitest';
import { expectRefusedWithoutChange, postRaw, useBadInputWorld } from './bad-input-support';

const { start, seededServer, pushBody } = useBadInputWorld();

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

    const server = start({ cors: { origin: 'https://app.example' } });
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
