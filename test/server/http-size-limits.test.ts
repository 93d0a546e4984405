import { describe, expect, it } from 'vitest';
import { upsert } from '../support/test-server';
import { expectRefusedWithoutChange, postRaw, useBadInputWorld, type Seeded } from './bad-input-support';

const { seededServer, pushBody } = useBadInputWorld();

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
