import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@concord/shared';
import { testSchema } from '../support/test-server';
import { expectRefusedWithoutChange, useBadInputWorld, type Seeded } from './bad-input-support';

const { seededServer, pushBody, pullBody } = useBadInputWorld();

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
    // The replica is newer than the server: the server is the one to update.
    expect(body.details).toEqual({ server: 1, served: [1], replica: 2, update: 'server' });
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

describe('a replica older than the server', () => {
  it('is told that it, not the server, must be updated', async () => {
    const { server } = await seededServer({ schema: { ...testSchema, version: 2 } });
    const response = await server.post('/v1/replicas', { protocol: PROTOCOL_VERSION, schemaVersion: 1 });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      code: 'schema_mismatch',
      message: expect.stringMatching(/this app is older than the server/),
      details: { server: 2, replica: 1, update: 'replica' },
    });
  });
});
