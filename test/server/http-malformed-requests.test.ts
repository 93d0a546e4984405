import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@concord/shared';
import { upsert } from '../support/test-server';
import { expectRefusedWithoutChange, postRaw, useBadInputWorld } from './bad-input-support';

const { seededServer, pushBody, pullBody } = useBadInputWorld();

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
