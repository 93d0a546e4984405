import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryDatabase, createMemoryStore } from '@concord/server';
import { expectConverged, serverRows } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';
import { createHttpTransport } from '../../client/src/sync/transport';
import { TOKEN_SECRET, expiredToken, tokenFor } from '../support/tokens';

const world = useTestWorld();
const withAuth = { auth: { secret: TOKEN_SECRET }, log: () => undefined };

describe('a replica of a server with auth', () => {
  it('a token that expires mid-sync is asked for again, and the round goes on with nothing lost', async () => {
    world.start(withAuth);
    let expireNext = false;
    const token = () => {
      if (!expireNext) return tokenFor('alice');
      expireNext = false;
      return expiredToken('alice');
    };
    const replica = await world.replica({ token });
    await replica.db.table('notes').put({ id: 'n1', title: 'before' });
    await replica.sync();
    // The token the app holds has expired by the next round; asked again, its function gives a fresh one.
    expireNext = true;
    await replica.db.table('notes').put({ id: 'n2', title: 'after expiry' });
    await replica.sync();
    expect(expireNext).toBe(false);
    await expectConverged(world.server(), replica);
    expect(Object.keys((await serverRows(world.server())).notes!)).toEqual(['n1', 'n2']);
  });

  it('a token the server keeps refusing fails the round as unauthorized and keeps every pending change', async () => {
    world.start(withAuth);
    let token = () => tokenFor('alice', {}, 'a-wrong-secret-of-enough-length-for-hs256');
    const replica = await world.replica({ token: () => token() });
    await replica.db.table('notes').put({ id: 'n1', title: 'kept' });
    await expect(replica.sync()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(await replica.db.table('_changes').count()).toBe(1);
    token = () => tokenFor('alice');
    await replica.sync();
    await expectConverged(world.server(), replica);
  });

  it('a replica of a server that ran open registers anew under its identity when auth is turned on, keeping its pending changes', async () => {
    const database = createMemoryDatabase();
    world.start({ store: createMemoryStore({ database }) });
    const indexedDB = new IDBFactory();
    const name = 'turned-on';
    const before = await world.replica({ indexedDB, name });
    await before.db.table('notes').put({ id: 'n1', title: 'synced open' });
    await before.sync();
    await before.db.table('notes').put({ id: 'n2', title: 'pending' });
    await before.close();

    const server = world.start({ store: createMemoryStore({ database }), ...withAuth });
    const after = await world.replica({ indexedDB, name, token: () => tokenFor('alice') });
    await after.sync();
    await expectConverged(server, after);
    expect(Object.keys((await serverRows(server)).notes!)).toEqual(['n1', 'n2']);
    expect(await server.store.getReplica(after.status.replicaId!)).toMatchObject({ subject: 'alice' });
  });

  it('the event stream takes the token too: a started replica hears another identity’s write through a poke', async () => {
    const server = world.start(withAuth);
    const a = await world.replica({ token: () => tokenFor('alice') });
    const b = await world.replica({ token: () => tokenFor('bob'), syncIntervalMs: 600_000 });
    b.start();
    await vi.waitFor(() => expect(b.status.lastSyncAt).not.toBeNull());
    await a.db.table('notes').add({ id: 'n1', title: 'from alice' });
    await a.sync();
    await vi.waitFor(async () => expect(await b.db.table('notes').get('n1')).toMatchObject({ title: 'from alice' }), {
      timeout: 5_000,
    });
    await expectConverged(server, a, b);
  });
});

describe('the transport asks for a new token only when the server refused the token', () => {
  it('a refused replica secret is not sent again with a fresh token', async () => {
    const server = world.start(withAuth);
    let asked = 0;
    let sent = 0;
    const transport = createHttpTransport({
      url: 'http://concord.test',
      fetch: (input, init) => (sent++, Promise.resolve(server.app.request(input as string, init))),
      token: () => (asked++, tokenFor('alice')),
    });
    const { replicaId } = await transport.register(1);
    [asked, sent] = [0, 0];
    await expect(
      transport.pull({ schemaVersion: 1, replicaId, secret: 'not-its-secret', after: 0 }),
    ).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect({ asked, sent }).toEqual({ asked: 1, sent: 1 });
  });
});
