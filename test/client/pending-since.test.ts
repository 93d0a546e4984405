import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestReplica } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();

afterEach(() => {
  vi.useRealTimers();
});

/** Sets the clock the replica's writes read (only `Date`: IndexedDB's own timers keep running). */
function clockAt(iso: string) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(iso));
}

describe("the age of a replica's pending changes", () => {
  it('is the time of the oldest pending write, until an upload empties the outbox', async () => {
    world.start();
    const replica = await world.replica();
    expect(replica.status.pendingSince).toBeNull();
    clockAt('2026-03-01T10:00:00.000Z');
    await replica.db.table('notes').add({ id: 'n1', title: 'first' });
    clockAt('2026-03-02T10:00:00.000Z');
    await replica.db.table('notes').add({ id: 'n2', title: 'later' });
    await vi.waitFor(() => expect(replica.status.pending).toBe(2));
    expect(replica.status.pendingSince).toBe('2026-03-01T10:00:00.000Z');

    await replica.sync();
    expect(replica.status).toMatchObject({ pending: 0, pendingSince: null });
    clockAt('2026-03-03T10:00:00.000Z');
    await replica.db.table('notes').update('n1', { title: 'edited' });
    await vi.waitFor(() => expect(replica.status.pendingSince).toBe('2026-03-03T10:00:00.000Z'));
  });

  it('clears when the pending changes cancel out, and survives closing the replica', async () => {
    const server = world.start();
    const indexedDB = new IDBFactory();
    const first = await openTestReplica(server, { indexedDB, name: 'device' });
    clockAt('2026-03-01T10:00:00.000Z');
    await first.db.table('notes').add({ id: 'n1', title: 'gone soon' });
    await first.db.table('notes').delete('n1'); // never uploaded: the insert and delete cancel out
    await vi.waitFor(() => expect(first.status.pending).toBe(0));
    expect(first.status.pendingSince).toBeNull();
    clockAt('2026-03-04T10:00:00.000Z');
    await first.db.table('notes').add({ id: 'n2', title: 'kept' });
    await first.close();

    clockAt('2026-03-09T10:00:00.000Z');
    const reopened = await world.replica({ indexedDB, name: 'device' });
    expect(reopened.status).toMatchObject({ pending: 1, pendingSince: '2026-03-04T10:00:00.000Z' });
  });
});
