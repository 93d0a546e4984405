import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@concord/shared';
import { upsert } from '../support/test-server';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();
const { start } = world;

describe('a cursor names a commit', () => {
  async function pullRaw(replicaId: string, secret: string, after: number, commit?: string) {
    return world.server().post('/v1/pull', {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId,
      secret,
      after,
      ...(commit === undefined ? {} : { commit }),
    });
  }

  it('a pull answers the commit its cursor stands on, and the next pull from there is accepted', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const page = (await (await pullRaw(b.replicaId, b.secret, 0)).json()) as { cursor: number; commit: string };
    expect(page).toMatchObject({ cursor: 1, commit: expect.stringMatching(/\S/) });
    expect((await pullRaw(b.replicaId, b.secret, page.cursor, page.commit)).status).toBe(200);
  });

  it.each([
    ['ahead of the server', 7, 'whatever'],
    ['at a generation the server reached under another commit (a restored store)', 1, 'another-commit'],
    ['without the commit it stands on', 1, undefined],
  ])('a cursor %s is refused with cursor_unknown and the replica’s watermarks', async (_name, after, commit) => {
    const server = start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const response = await pullRaw(a.replicaId, a.secret, after, commit);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ code: 'cursor_unknown', details: { acknowledged: 1, pulled: 0 } });
  });
});

describe('a pull checks what the replica knows', () => {
  it('a replica that knows more of its changes were applied than the store has is refused with generation_gap', async () => {
    const server = start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const pull = (acknowledged: number) =>
      server.post('/v1/pull', {
        protocol: PROTOCOL_VERSION,
        schemaVersion: 1,
        replicaId: a.replicaId,
        secret: a.secret,
        after: 0,
        acknowledged,
      });
    expect((await pull(1)).status).toBe(200);
    const refused = await pull(2);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'generation_gap', details: { acknowledged: 1 } });
  });

  it('a pull with old cursors is told the newest of them the store still has', async () => {
    const server = start();
    const a = await server.register();
    for (let gen = 1; gen <= 3; gen++) {
      await server.push(a.replicaId, [upsert('notes', `n${gen}`, { title: 'a' }, { gen })]);
    }
    const cursors = [
      { generation: 1, commit: (await server.store.commitAt(1))! },
      { generation: 2, commit: (await server.store.commitAt(2))! },
      { generation: 3, commit: 'a commit of another history' },
      { generation: 9, commit: 'not reached yet' },
    ];
    const response = await server.post('/v1/pull', {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId: a.replicaId,
      secret: a.secret,
      after: 0,
      own: true,
      cursors,
    });
    expect(await response.json()).toMatchObject({
      shared: 2,
      changes: [{ rowguid: 'n1' }, { rowguid: 'n2' }, { rowguid: 'n3' }],
    });
  });
});

describe('a push names the history its bases belong to', () => {
  it('a push whose cursor names a commit the store does not have is refused with cursor_unknown, and applies nothing', async () => {
    const server = start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const push = (after: number, commit?: string) =>
      server.post('/v1/push', {
        protocol: PROTOCOL_VERSION,
        schemaVersion: 1,
        replicaId: a.replicaId,
        secret: a.secret,
        fromLocalGeneration: 2,
        toLocalGeneration: 2,
        after,
        ...(commit === undefined ? {} : { commit }),
        changes: [upsert('notes', 'n1', { title: 'b' }, { gen: 2, base: 1 })],
      });
    const before = server.snapshot();
    const refused = await push(1, 'a commit of another history');
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'cursor_unknown', details: { acknowledged: 1 } });
    expect(server.snapshot()).toEqual(before);
    expect((await push(1, (await server.store.commitAt(1))!)).status).toBe(200);
  });
});
