import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openReplica, type Replica } from '@concord/client';
import { startServerInstances, type ServerInstance } from '../support/postgres-sync-servers';
import { testSchema } from '../support/test-server';

/** Notifications travel through the database server; allow for a loaded machine. */
const heardWithin = { timeout: 15_000 };

let close: (() => Promise<unknown>) | undefined;
const replicas: Replica[] = [];
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((replica) => replica.close()));
  await close?.();
});

function attach(server: ServerInstance, name: string, options: { syncIntervalMs?: number } = {}): Promise<Replica> {
  return openReplica({
    ...options,
    schema: testSchema,
    url: 'http://concord.test',
    fetch: (input, init) => Promise.resolve(server.app.request(input as string, init)),
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    name,
    events: new EventTarget(),
  }).then((replica) => (replicas.push(replica), replica));
}

const notes = async (replica: Replica) =>
  (await replica.db.table('notes').toArray()).sort((a, b) => String(a.id).localeCompare(String(b.id)));

describe('several server instances on one PostgreSQL', () => {
  it('replicas attached to different instances converge, and a commit on one instance pokes the listeners of the other', async () => {
    const servers = await startServerInstances(2);
    close = servers.close;
    const [one, two] = servers.instances as [ServerInstance, ServerInstance];
    const poked = { one: [] as number[], two: [] as number[] };
    one.store.onCommit((generation) => poked.one.push(generation));
    two.store.onCommit((generation) => poked.two.push(generation));

    const a = await attach(one, 'replica-a');
    const b = await attach(two, 'replica-b');
    await a.db.table('notes').bulkAdd([
      { id: 'n1', title: 'from a', rank: 1 },
      { id: 'n2', title: 'also from a', rank: 2 },
    ]);
    await a.sync();
    // Committed through instance one; instance two hears it and would poke its replicas.
    await vi.waitFor(() => expect(poked).toEqual({ one: [2], two: [2] }), heardWithin);

    await b.sync();
    await b.db.table('notes').update('n1', { title: 'edited on b' });
    await b.db.table('notes').add({ id: 'n3', title: 'from b', rank: 3 });
    await b.sync();
    await vi.waitFor(() => expect(poked.one).toEqual([2, 4]), heardWithin);
    await a.sync();

    const expected = [
      { id: 'n1', title: 'edited on b', rank: 1 },
      { id: 'n2', title: 'also from a', rank: 2 },
      { id: 'n3', title: 'from b', rank: 3 },
    ];
    expect(await notes(a)).toEqual(expected);
    expect(await notes(b)).toEqual(expected);
    expect(await a.db.table('_changes').count()).toBe(0);
    expect(await b.db.table('_changes').count()).toBe(0);
    expect(await one.store.meta()).toEqual(await two.store.meta());
  });

  it('a replica streaming events from one instance is poked by a push through the other, and syncs by itself', async () => {
    const servers = await startServerInstances(2);
    close = servers.close;
    const [one, two] = servers.instances as [ServerInstance, ServerInstance];
    const a = await attach(one, 'replica-a');
    const b = await attach(two, 'replica-b', { syncIntervalMs: 600_000 });
    b.start();
    await vi.waitFor(() => expect(b.status.lastSyncAt).not.toBeNull(), heardWithin);
    await a.db.table('notes').add({ id: 'n1', title: 'through instance one', rank: 1 });
    await a.sync();
    await vi.waitFor(async () => expect(await notes(b)).toEqual(await notes(a)), heardWithin);
  });
});
