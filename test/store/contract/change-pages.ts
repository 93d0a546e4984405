import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RowValues } from '@concord/shared';
import type { Store } from '@concord/server';
import { allPages, commitRows, note, row, type StoreLocation, type StoreKind } from '../store-fixtures';

export function changePageContract(kind: StoreKind): void {
  describe('changesSince', () => {
    let location: StoreLocation;
    let openStore: () => Store;

    beforeEach(async () => {
      location = await kind.create();
      openStore = () => location.open();
    });
    afterEach(() => location.dispose());

    /** Ten rows by two writers, some rewritten later (moving to a new generation), two deleted. */
    async function history(store: Store) {
      const mk = (rowguid: string, writer: string, values: RowValues, deleted = false) => ({
        table: 'notes',
        rowguid,
        values,
        deleted,
        writer,
        priority: 0,
      });
      // Keys deliberately out of alphabetical order relative to generations.
      await commitRows(store, [
        mk('k9', 'r-a', { rank: 1 }),
        mk('k1', 'r-b', { rank: 2 }),
        mk('k5', 'r-a', { rank: 3 }),
        mk('k3', 'r-b', { rank: 4 }),
      ]);
      await commitRows(store, [
        mk('k7', 'r-a', { rank: 5 }),
        mk('k2', 'r-a', { rank: 6 }),
        mk('k8', 'r-b', { rank: 7 }),
      ]);
      // k9 rewritten by r-b, k1 deleted by r-a, k4/k6/k0 new; k5 deleted by r-b.
      await commitRows(store, [
        mk('k9', 'r-b', { rank: 10 }),
        mk('k1', 'r-a', { rank: 2 }, true),
        mk('k4', 'r-a', { rank: 11 }),
      ]);
      await commitRows(store, [
        mk('k6', 'r-b', { rank: 12 }),
        mk('k5', 'r-b', { rank: 3 }, true),
        mk('k0', 'r-a', { rank: 13 }),
      ]);
    }

    it('returns rows in generation order, each row once at its latest version, tombstones included', async () => {
      const store = openStore();
      await history(store);
      const page = await store.changesSince({ after: 0, limit: 100 });
      expect(page.more).toBe(false);
      expect(page.cursor).toBe(13);
      expect(page.rows.map((r) => [r.rowguid, r.generation, r.deleted])).toEqual([
        ['k3', 4, false],
        ['k7', 5, false],
        ['k2', 6, false],
        ['k8', 7, false],
        ['k9', 8, false],
        ['k1', 9, true],
        ['k4', 10, false],
        ['k6', 11, false],
        ['k5', 12, true],
        ['k0', 13, false],
      ]);
      expect(page.rows.find((r) => r.rowguid === 'k1')).toEqual(
        row('notes', 'k1', 9, 'r-a', { rank: 2 }, { deleted: true }),
      );
    });

    it('returns only rows after the given generation', async () => {
      const store = openStore();
      await history(store);
      const page = await store.changesSince({ after: 9, limit: 100 });
      expect(page.rows.map((r) => r.generation)).toEqual([10, 11, 12, 13]);
      expect(page).toMatchObject({ cursor: 13, more: false });
      expect(await store.changesSince({ after: 13, limit: 100 })).toEqual({
        rows: [],
        removals: [],
        purged: 0,
        cursor: 13,
        commit: expect.any(String),
        more: false,
      });
    });

    // The history's transactions end at generations 4, 7, 10 and 13: a page always ends at one of them.
    it.each([
      [1, [4, 7, 10, 13]],
      [2, [7, 10, 13]],
      [3, [7, 10, 13]],
      [4, [7, 13]],
      [9, [13]],
      [10, [13]],
    ])(
      'paging with limit %i returns every row exactly once, in whole transactions, and ends at the store generation',
      async (limit, cursors) => {
        const store = openStore();
        await history(store);
        const pages = await allPages(store, limit);
        const seen = pages.flatMap((p) => p.rows);
        expect(seen.map((r) => r.generation)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
        expect(new Set(seen.map((r) => r.rowguid)).size).toBe(10);
        expect(pages.map((p) => p.cursor)).toEqual(cursors);
        expect(pages.slice(0, -1).every((p) => p.more)).toBe(true);
        expect(pages.at(-1)).toMatchObject({ more: false, cursor: 13 });
        for (const page of pages) expect(page.commit).toBe(await store.commitAt(page.cursor));
      },
    );

    it('a transaction larger than the page limit comes whole, as one page', async () => {
      const store = openStore();
      await commitRows(store, [note('a')]);
      await commitRows(
        store,
        Array.from({ length: 30 }, (_, i) => note(`big${i}`)),
      );
      await commitRows(store, [note('z')]);
      const first = await store.changesSince({ after: 0, limit: 2 });
      expect(first.rows.map((r) => r.rowguid)).toEqual(['a', ...Array.from({ length: 30 }, (_, i) => `big${i}`)]);
      expect(first).toMatchObject({ cursor: 31, more: true });
      expect((await store.changesSince({ after: 31, limit: 2 })).rows.map((r) => r.rowguid)).toEqual(['z']);
    });

    it('a page stops at maxBytes of row data, always holds at least one row, and never splits a transaction', async () => {
      const store = openStore();
      const big = (rowguid: string) => ({ ...note(rowguid), values: { body: 'x'.repeat(10_000) } });
      for (const rowguid of ['r1', 'r2', 'r3']) await commitRows(store, [big(rowguid)]);
      await commitRows(store, [big('t1'), big('t2')]);
      const sizes = [];
      for (let cursor = 0, more = true; more;) {
        const page = await store.changesSince({ after: cursor, limit: 100, maxBytes: 15_000 });
        sizes.push(page.rows.map((r) => r.rowguid));
        [cursor, more] = [page.cursor, page.more];
      }
      expect(sizes).toEqual([
        ['r1', 'r2'],
        ['r3', 't1', 't2'],
      ]);
      const tiny = await store.changesSince({ after: 0, limit: 100, maxBytes: 1 });
      expect(tiny.rows.map((r) => r.rowguid)).toEqual(['r1']);
    });

    it('leaves out rows last written by exceptWriter, and paging still returns every other row once and reaches the store generation', async () => {
      const store = openStore();
      await history(store);
      const all = (await store.changesSince({ after: 0, limit: 100 })).rows;
      const notByA = all.filter((r) => r.writer !== 'r-a');
      expect(notByA.map((r) => r.rowguid)).toEqual(['k3', 'k8', 'k9', 'k6', 'k5']);

      const single = await store.changesSince({ after: 0, limit: 100, exceptWriter: 'r-a' });
      expect(single).toEqual({
        rows: notByA,
        removals: [],
        purged: 0,
        cursor: 13,
        commit: expect.any(String),
        more: false,
      });

      for (const limit of [1, 2, 3]) {
        const pages = await allPages(store, limit, 'r-a');
        expect(pages.flatMap((p) => p.rows)).toEqual(notByA);
        expect(pages.at(-1)).toMatchObject({ more: false, cursor: 13 });
      }
      // A writer that wrote everything after a point gets an empty page whose cursor still advances.
      expect(await store.changesSince({ after: 12, limit: 10, exceptWriter: 'r-a' })).toEqual({
        rows: [],
        removals: [],
        purged: 0,
        cursor: 13,
        commit: await store.commitAt(13),
        more: false,
      });
    });

    it('leaves out rows of exceptTables inside the query, so pages stay full and the cursor still reaches the store generation', async () => {
      const store = openStore();
      await history(store);
      await commitRows(store, [
        { table: 'stock', rowguid: 's1', values: { qty: 1 }, deleted: false, writer: 'r-a', priority: 0 },
        { table: 'notes', rowguid: 'k-last', values: {}, deleted: false, writer: 'r-a', priority: 0 },
        { table: 'stock', rowguid: 's2', values: { qty: 2 }, deleted: true, writer: 'r-b', priority: 0 },
      ]);
      const withStock = await store.changesSince({ after: 12, limit: 10 });
      expect(withStock.rows.map((r) => r.rowguid)).toEqual(['k0', 's1', 'k-last', 's2']);
      expect(await store.changesSince({ after: 12, limit: 10, exceptTables: ['stock'] })).toMatchObject({
        cursor: 16,
        more: false,
      });
      expect(
        (await store.changesSince({ after: 12, limit: 2, exceptTables: ['stock'] })).rows.map((r) => r.rowguid),
      ).toEqual(['k0', 'k-last']);
      expect(await store.changesSince({ after: 14, limit: 10, exceptWriter: 'r-a', exceptTables: ['stock'] })).toEqual({
        rows: [],
        removals: [],
        purged: 0,
        cursor: 16,
        commit: await store.commitAt(16),
        more: false,
      });
    });

    it('an empty store returns an empty page at generation 0', async () => {
      const store = openStore();
      expect(await store.changesSince({ after: 0, limit: 10 })).toEqual({
        rows: [],
        removals: [],
        purged: 0,
        cursor: 0,
        commit: '',
        more: false,
      });
    });
  });
}
