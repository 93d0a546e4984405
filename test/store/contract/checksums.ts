import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store, StoredRow } from '@concord/server';
import { addHash, rowHasher, type RowValues } from '@concord/shared';

const rowHash = await rowHasher();
import { commitRows, type StoreLocation, type StoreKind } from '../store-fixtures';

const stock = (rowguid: string, branch: string, deleted = false): Omit<StoredRow, 'generation'> => ({
  table: 'stock',
  rowguid,
  values: { branchId: branch, qty: rowguid.length, meta: { b: [1, { y: 2, x: null }], a: 'é' } },
  deleted,
  writer: 'r-hq',
  priority: 0,
  partition: JSON.stringify(branch),
});
const product = (rowguid: string): Omit<StoredRow, 'generation'> => ({
  table: 'products',
  rowguid,
  values: { name: rowguid, note: null },
  deleted: false,
  writer: 'r-hq',
  priority: 0,
});

/** The checksum of rows as a replica would compute it, one by one. */
const expected = (rows: readonly Omit<StoredRow, 'generation'>[]) => ({
  count: rows.length,
  checksum: rows.reduce((sum, row) => addHash(sum, rowHash(row.rowguid, row.values as RowValues)), 0),
});

export function checksumContract(kind: StoreKind): void {
  describe('checksums', () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await kind.create();
      store = location.open();
    });
    afterEach(() => location.dispose());

    const rows = [stock('s1', 'north'), stock('s22', 'north'), stock('s333', 'south'), product('p1'), product('p2')];

    it('counts and sums the live rows of each table, tombstones aside, empty tables included', async () => {
      await commitRows(store, [...rows, stock('gone', 'north', true)]);
      const sums = await store.checksums({ tables: ['stock', 'products', 'empty'] });
      expect(Object.fromEntries(sums)).toEqual({
        stock: expected(rows.slice(0, 3)),
        products: expected(rows.slice(3)),
        empty: { count: 0, checksum: 0 },
      });
    });

    it('counts only what a view sees, and leaves out excluded rows', async () => {
      await commitRows(store, rows);
      const view = { parts: [['stock', JSON.stringify('north')] as const], whole: ['products'] };
      const sums = await store.checksums({
        tables: ['stock', 'products'],
        view,
        // s333 is outside the view: leaving it out takes nothing away.
        exclude: [
          { table: 'stock', rowguid: 's22' },
          { table: 'stock', rowguid: 's22' }, // named twice, left out once
          { table: 'stock', rowguid: 's333' },
          { table: 'products', rowguid: 'p9' },
        ],
      });
      expect(Object.fromEntries(sums)).toEqual({
        stock: expected([rows[0]!]),
        products: expected(rows.slice(3)),
      });
    });

    it('changes with any value, and a null column counts as a missing one', async () => {
      await commitRows(store, rows);
      const before = (await store.checksums({ tables: ['products'] })).get('products')!;
      await commitRows(store, [{ ...product('p1'), values: { name: 'p1' } }]);
      expect((await store.checksums({ tables: ['products'] })).get('products')).toEqual(before);
      await commitRows(store, [{ ...product('p1'), values: { name: 'P1' } }]);
      const after = (await store.checksums({ tables: ['products'] })).get('products')!;
      expect(after.count).toBe(2);
      expect(after.checksum).not.toBe(before.checksum);
    });
  });
}
