import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type FromServerPush, type FromServerRegister } from '@concord/shared';
import { createSyncServer, type Store } from '@concord/server';
import { commitRows, conflict, replica, row, type StoreLocation, type StoreKind } from '../store-fixtures';
import { testSchema, upsert } from '../../support/test-server';

export function transactionContract(kind: StoreKind): void {
  describe('transactions, replicas and the conflict log', () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await kind.create();
      store = location.open();
    });
    afterEach(() => location.dispose());

    it('upserts by rowguid: a second write of a (table, rowguid) replaces the first, and the same rowguid in another table is another row', async () => {
      await commitRows(store, [
        { table: 'notes', rowguid: 'n1', values: { title: 'first' }, deleted: false, writer: 'r-a', priority: 0 },
        { table: 'stock', rowguid: 'n1', values: { sku: 'S' }, deleted: false, writer: 'r-a', priority: 0 },
      ]);
      const columns = { title: { generation: 3, writer: 'r-b', priority: 2.5 } };
      await commitRows(store, [
        {
          table: 'notes',
          rowguid: 'n1',
          values: { title: 'second' },
          deleted: false,
          writer: 'r-b',
          priority: 2.5,
          columns,
        },
      ]);
      const found = await store.transaction((tx) =>
        tx.getRows([
          { table: 'notes', rowguid: 'n1' },
          { table: 'stock', rowguid: 'n1' },
          { table: 'notes', rowguid: 'missing' },
        ]),
      );
      expect(found.size).toBe(2);
      expect(found.get('notes\u0000n1')).toEqual(
        row('notes', 'n1', 3, 'r-b', { title: 'second' }, { priority: 2.5, columns }),
      );
      expect(found.get('stock\u0000n1')).toEqual(row('stock', 'n1', 2, 'r-a', { sku: 'S' }));
      expect(await store.meta()).toMatchObject({ generation: 3, epoch: expect.stringMatching(/\S/) });
    });

    it('a tombstone keeps its last values and is returned by change queries', async () => {
      const values = { title: 'gone', extra: { tags: ['a'], n: null } };
      await commitRows(store, [{ table: 'notes', rowguid: 'n1', values, deleted: true, writer: 'r-a', priority: 0 }]);
      expect(await store.changesSince({ after: 0, limit: 10 })).toEqual({
        rows: [row('notes', 'n1', 1, 'r-a', values, { deleted: true })],
        removals: [],
        purged: 0,
        cursor: 1,
        commit: await store.commitAt(1),
        more: false,
      });
    });

    it('replicas round trip, and notePull records the cursor and sync time', async () => {
      const r = replica('r-a', { priority: 5, lastAppliedLocalGeneration: 7 });
      await store.transaction((tx) => tx.putReplica(r));
      expect(await store.getReplica('r-a')).toEqual(r);
      expect(await store.transaction((tx) => tx.getReplica('r-a'))).toEqual(r);
      await store.notePull('r-a', 3, '2024-05-01T10:07:00.000Z');
      expect(await store.getReplica('r-a')).toEqual({
        ...r,
        lastPulledGeneration: 3,
        lastSyncAt: '2024-05-01T10:07:00.000Z',
      });
      expect(await store.getReplica('nobody')).toBeUndefined();
    });

    it('lists replica records in byte order of their ids, a page at a time', async () => {
      const ids = ['r-b', 'r-a', 'R-z', 'r-é', 'r-c'];
      await store.transaction(async (tx) => {
        for (const id of ids) await tx.putReplica(replica(id));
      });
      const first = await store.listReplicas({ limit: 2 });
      expect(first.map((record) => record.replicaId)).toEqual(['R-z', 'r-a']);
      expect(first[0]).toEqual(replica('R-z'));
      const rest = await store.listReplicas({ after: 'r-a', limit: 10 });
      expect(rest.map((record) => record.replicaId)).toEqual(['r-b', 'r-c', 'r-é']);
    });

    it('a replica record written again keeps when, with what secret and by whom it was registered', async () => {
      const registered = { createdAt: '2024-05-01T10:00:00.000Z', secretHash: 'ab'.repeat(32), subject: 'alice' };
      const r = replica('r-a', registered);
      await store.transaction((tx) => tx.putReplica(r));
      const again = {
        ...r,
        createdAt: '2025-01-01T00:00:00.000Z',
        secretHash: 'cd'.repeat(32),
        subject: 'mallory',
        lastAppliedLocalGeneration: 2,
      };
      await store.transaction((tx) => tx.putReplica(again));
      expect(await store.getReplica('r-a')).toEqual({ ...r, lastAppliedLocalGeneration: 2 });
    });

    it('the conflict list is cut by characters of the stored entry, a character outside the BMP counting once', async () => {
      const wide = conflict('c-1', { reason: '😀'.repeat(200) });
      await store.transaction((tx) => tx.addConflicts([wide, conflict('c-2'), conflict('c-3')]));
      const characters = [...JSON.stringify(wide)].length;
      const listed = await store.listConflicts({ limit: 10, maxBytes: characters + 1 });
      expect(listed.map((entry) => entry.id)).toEqual(['c-1', 'c-2']);
    });

    it('the conflict log round trips: entries listed by id with filters and paging, read and replaced by id', async () => {
      const entries = [
        conflict('c-01'),
        conflict('c-02', {
          table: 'stock',
          rowguid: 's1',
          status: 'open',
          winner: null,
          loser: null,
          winningValues: null,
        }),
        conflict('c-03', { replicaId: 'r-c', winner: 'r-c', loser: 'r-d' }),
      ];
      await store.transaction((tx) => tx.addConflicts(entries));
      expect(await store.listConflicts({ limit: 10 })).toEqual(entries);
      expect(await store.listConflicts({ limit: 10, status: 'open' })).toEqual([entries[1]]);
      expect(await store.listConflicts({ limit: 10, table: 'notes' })).toEqual([entries[0], entries[2]]);
      expect(await store.listConflicts({ limit: 10, replicaId: 'r-d' })).toEqual([entries[2]]);
      expect(await store.listConflicts({ limit: 1, after: 'c-01' })).toEqual([entries[1]]);

      const overridden = { ...entries[1]!, status: 'overridden' as const, winner: 'r-b', loser: 'r-a' };
      const read = await store.transaction(async (tx) => {
        const before = await tx.getConflict('c-02');
        await tx.updateConflict(overridden);
        await tx.updateConflict(conflict('c-unknown'));
        return { before, after: await tx.getConflict('c-02'), unknown: await tx.getConflict('c-unknown') };
      });
      expect(read).toEqual({ before: entries[1], after: overridden, unknown: undefined });
      expect(await store.listConflicts({ limit: 10, status: 'overridden' })).toEqual([overridden]);
      expect(await store.listConflicts({ limit: 10, replicaId: 'r-b' })).toEqual([entries[0], overridden]);
    });

    it('a failed transaction leaves nothing behind: rows, generations, conflicts and watermarks roll back, and the error propagates', async () => {
      const original = row('notes', 'n1', 1, 'r-a', { title: 'kept' });
      await store.transaction(async (tx) => {
        await tx.putReplica(replica('r-a', { lastAppliedLocalGeneration: 5 }));
        await tx.allocateGenerations(1);
        await tx.writeRows([original]);
        await tx.addConflicts([conflict('c-01')]);
      });
      const snapshot = async () => ({
        meta: await store.meta(),
        replica: await store.getReplica('r-a'),
        newReplica: await store.getReplica('r-new'),
        changes: await store.changesSince({ after: 0, limit: 100 }),
        conflicts: await store.listConflicts({ limit: 100 }),
      });
      const before = await snapshot();

      const boom = new Error('boom after writing');
      const failed = store.transaction(async (tx) => {
        const first = await tx.allocateGenerations(2);
        await tx.writeRows([
          row('notes', 'n1', first, 'r-a', { title: 'overwritten' }),
          row('notes', 'n2', first + 1, 'r-a', { title: 'new' }, { deleted: true }),
        ]);
        await tx.addConflicts([conflict('c-02', { generation: first })]);
        await tx.updateConflict({ ...conflict('c-01'), status: 'overridden' });
        await tx.putReplica(replica('r-a', { lastAppliedLocalGeneration: 9, lastSyncAt: '2024-05-02T00:00:00.000Z' }));
        await tx.putReplica(replica('r-new'));
        // Inside the transaction its own writes are visible...
        expect((await tx.getRows([{ table: 'notes', rowguid: 'n2' }])).size).toBe(1);
        throw boom;
      });
      await expect(failed).rejects.toBe(boom);

      expect(await snapshot()).toEqual(before);
      const rows = await store.transaction((tx) =>
        tx.getRows([
          { table: 'notes', rowguid: 'n1' },
          { table: 'notes', rowguid: 'n2' },
        ]),
      );
      expect([...rows.values()]).toEqual([original]);
      // No generation was burnt: the next transaction continues right after the last committed one.
      expect(await store.transaction((tx) => tx.allocateGenerations(1))).toBe(2);
    });

    it('a second transaction started before the first finishes runs after it commits and sees its generation and rows', async () => {
      const events: string[] = [];
      let started!: () => void;
      const firstStarted = new Promise<void>((resolve) => (started = resolve));
      const first = store.transaction(async (tx) => {
        events.push('first:start');
        started();
        const generation = await tx.allocateGenerations(1);
        await new Promise((resolve) => setTimeout(resolve, 30));
        await tx.writeRows([row('notes', 'n1', generation, 'r-a', { title: 'first' })]);
        events.push('first:end');
        return generation;
      });
      await firstStarted; // the first holds the store's write lock from here until it commits
      const second = store.transaction(async (tx) => {
        events.push('second:start');
        const seen = await tx.getRows([{ table: 'notes', rowguid: 'n1' }]);
        const generation = await tx.allocateGenerations(1);
        await tx.writeRows([row('notes', 'n2', generation, 'r-b', { title: 'second' })]);
        events.push('second:end');
        return { generation, sawFirst: seen.get('notes\u0000n1')?.values };
      });
      expect(await first).toBe(1);
      expect(await second).toEqual({ generation: 2, sawFirst: { title: 'first' } });
      expect(events).toEqual(['first:start', 'first:end', 'second:start', 'second:end']);
    });

    it('a push replayed through the sync server is answered as a duplicate and changes nothing', async () => {
      const app = createSyncServer({ schema: testSchema, store, log: () => undefined });
      const post = async <T>(path: string, body: object): Promise<T> => {
        const response = await app.request(path, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: testSchema.version, ...body }),
        });
        expect(response.status, path).toBeLessThan(300);
        return (await response.json()) as T;
      };
      const { replicaId, secret } = await post<FromServerRegister>('/v1/replicas', {});
      const changes = [
        upsert('notes', 'n1', { title: 'a' }, { gen: 1 }),
        upsert('notes', 'n2', { title: 'b' }, { gen: 2 }),
      ];
      const push = { replicaId, secret, fromLocalGeneration: 1, toLocalGeneration: 2, changes };
      const first = await post<FromServerPush>('/v1/push', push);
      expect(first.results.map((r) => r.outcome)).toEqual(['applied', 'applied']);
      const before = { meta: await store.meta(), changes: await store.changesSince({ after: 0, limit: 10 }) };

      const replay = await post<FromServerPush>('/v1/push', push);
      expect(replay.results.map((r) => [r.outcome, r.generation])).toEqual([
        ['duplicate', 1],
        ['duplicate', 2],
      ]);
      expect({ meta: await store.meta(), changes: await store.changesSince({ after: 0, limit: 10 }) }).toEqual(before);
      expect((await store.getReplica(replicaId))?.lastAppliedLocalGeneration).toBe(2);
    });

    it('after close() every call rejects with unavailable and transaction work never runs', async () => {
      await commitRows(store, [
        { table: 'notes', rowguid: 'n1', values: {}, deleted: false, writer: 'r-a', priority: 0 },
      ]);
      await store.close();
      const work = vi.fn(async () => 'ran');
      const calls: [string, () => Promise<unknown>][] = [
        ['meta', () => store.meta()],
        ['transaction', () => store.transaction(work)],
        ['changesSince', () => store.changesSince({ after: 0, limit: 10 })],
        ['getReplica', () => store.getReplica('r-a')],
        ['notePull', () => store.notePull('r-a', 1, '2024-05-01T00:00:00.000Z')],
        ['listConflicts', () => store.listConflicts({ limit: 10 })],
        ['close', () => store.close()],
      ];
      for (const [name, call] of calls) {
        await expect(call(), name).rejects.toMatchObject({ name: 'ConcordError', code: 'unavailable' });
      }
      expect(work).not.toHaveBeenCalled();
    });

    it('close() waits for a transaction already started and lets it commit; another instance on the database sees it', async () => {
      const committed = store.transaction(async (tx) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const generation = await tx.allocateGenerations(1);
        await tx.writeRows([row('notes', 'n1', generation, 'r-a', { title: 'a' })]);
        return generation;
      });
      const closed = store.close();
      await expect(committed).resolves.toBe(1);
      await closed;
      const reopened = location.open();
      expect((await reopened.changesSince({ after: 0, limit: 10 })).rows.map((r) => r.rowguid)).toEqual(['n1']);
    });
  });
}
