import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '@concord/server';
import { commitRows, conflict, replica, type StoreLocation, type StoreKind } from '../store-fixtures';

const note = (rowguid: string, deleted: boolean) => ({
  table: 'notes',
  rowguid,
  values: { title: rowguid },
  deleted,
  writer: 'r-a',
  priority: 0,
});

const DAY = (day: number) => `2024-05-${String(day).padStart(2, '0')}T10:00:00.000Z`;

export function purgeContract(kind: StoreKind): void {
  describe('purge', () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await kind.create();
      store = location.open();
    });
    afterEach(() => location.dispose());

    /** Tombstones at generations 1, 2 and 4, live rows at 3 and 5; replicas last seen on days 2, 10 and 20. */
    async function history() {
      await commitRows(store, [
        note('t1', true),
        note('t2', true),
        note('n3', false),
        note('t4', true),
        note('n5', false),
      ]);
      await store.transaction(async (tx) => {
        await tx.putReplica(replica('r-gone', { lastSyncAt: DAY(2), lastPulledGeneration: 0 }));
        await tx.putReplica(replica('r-slow', { lastSyncAt: DAY(10), lastPulledGeneration: 2 }));
        await tx.putReplica(replica('r-fast', { lastSyncAt: DAY(20), lastPulledGeneration: 5 }));
        await tx.addConflicts([
          conflict('c-old-settled', { createdAt: DAY(1) }),
          conflict('c-old-open', { createdAt: DAY(1), status: 'open' }),
          conflict('c-old-decided', { createdAt: DAY(1), status: 'open' }),
          conflict('c-new', { createdAt: DAY(15) }),
        ]);
        // Logged open long ago, decided by hand lately: it counts from its decision.
        await tx.updateConflict(
          conflict('c-old-decided', { createdAt: DAY(1), status: 'overridden', resolvedAt: DAY(16), resolvedBy: 'x' }),
        );
      });
    }

    it('removes tombstones every live replica has downloaded and old settled entries, and keeps every replica record', async () => {
      await history();
      const report = await store.purge({ before: DAY(5), limit: 100 });
      expect(report).toEqual({ tombstones: 2, moves: 0, conflicts: 1, more: false });
      const rows = await store.changesSince({ after: 0, limit: 100 });
      // t4 stays: r-slow, seen within retention, has downloaded only up to 2.
      expect(rows.rows.map((row) => row.rowguid)).toEqual(['n3', 't4', 'n5']);
      expect((await store.listConflicts({ limit: 100 })).map((entry) => entry.id).sort()).toEqual([
        'c-new',
        'c-old-decided',
        'c-old-open',
      ]);
      // Replica records stay, however old: an old replica is told it expired, never forgotten.
      expect(await store.getReplica('r-gone')).toBeDefined();
      // Once r-slow is past retention too, nothing holds t4 back.
      expect(await store.purge({ before: DAY(12), limit: 100 })).toMatchObject({
        tombstones: 1,
      });
    });

    it('removes at most limit of each kind per call, and says when there is more', async () => {
      await history();
      const first = await store.purge({ before: DAY(30), limit: 1 });
      expect(first).toMatchObject({ tombstones: 1, more: true });
      let rounds = 1;
      while ((await store.purge({ before: DAY(30), limit: 1 })).more) rounds++;
      expect(rounds).toBeGreaterThan(1);
      expect((await store.changesSince({ after: 0, limit: 100 })).rows.every((row) => !row.deleted)).toBe(true);
      expect((await store.listConflicts({ limit: 100 })).map((entry) => entry.id)).toEqual(['c-old-open']);
    });
  });
}
