import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeQuery, PartitionView, Store, StoredRow } from '@concord/server';
import { commitRows, type StoreLocation, type StoreKind } from '../store-fixtures';

/** A stock row of a branch, or an order line following an order. */
const stock = (rowguid: string, branch: string, writer = 'r-hq'): Omit<StoredRow, 'generation'> => ({
  table: 'stock',
  rowguid,
  values: { branchId: branch },
  deleted: false,
  writer,
  priority: 0,
  partition: JSON.stringify(branch),
});
const line = (rowguid: string, order: string, partition: string): Omit<StoredRow, 'generation'> => ({
  table: 'lines',
  rowguid,
  values: { orderId: order },
  deleted: false,
  writer: 'r-hq',
  priority: 0,
  partition,
  parent: order,
});
const product = (rowguid: string): Omit<StoredRow, 'generation'> => ({
  table: 'products',
  rowguid,
  values: { name: rowguid },
  deleted: false,
  writer: 'r-hq',
  priority: 0,
});

const view = (...branches: string[]): PartitionView => ({
  parts: [
    ['products', ''],
    ...branches.flatMap((branch) => [
      ['stock', JSON.stringify(branch)] as const,
      ['lines', JSON.stringify(branch)] as const,
    ]),
  ],
  whole: [],
});

/** Every page of a download through `query`, as one list of what it sent. */
async function download(store: Store, query: Omit<ChangeQuery, 'limit'>, limit = 2) {
  const sent: string[] = [];
  let after = query.after;
  for (let more = true; more;) {
    const page = await store.changesSince({ ...query, after, limit });
    expect(page.cursor).toBeGreaterThanOrEqual(after);
    sent.push(...page.rows.map((row) => `${row.table}/${row.rowguid}`));
    sent.push(...page.removals.map((removal) => `-${removal.table}/${removal.rowguid}`));
    [after, more] = [page.cursor, page.more];
  }
  return { sent, cursor: after };
}

export function partitionContract(kind: StoreKind): void {
  describe('partitions', () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await kind.create();
      store = location.open();
    });
    afterEach(() => location.dispose());

    it('a view sees its partitions and the tables without a filter, paged in generation order', async () => {
      await commitRows(store, [stock('s1', 'A'), stock('s2', 'B'), product('p1'), stock('s3', 'A')]);
      await commitRows(store, [stock('s4', 'B'), line('l1', 'o1', '"A"'), line('l2', 'o2', '"B"')]);
      const { sent, cursor } = await download(store, { after: 0, view: view('A') });
      expect(sent).toEqual(['stock/s1', 'products/p1', 'stock/s3', 'lines/l1']);
      expect(cursor).toBe(7);
      expect((await download(store, { after: 0, view: view('A', 'B') })).sent).toHaveLength(7);
      expect((await download(store, { after: 0, view: { parts: [], whole: ['stock'] } })).sent).toEqual([
        'stock/s1',
        'stock/s2',
        'stock/s3',
        'stock/s4',
      ]);
      expect((await download(store, { after: 0, view: { parts: [], whole: [] } })).sent).toEqual([]);
      // The partition and parent are kept with the row.
      const rows = await store.transaction((tx) => tx.getRows([{ table: 'lines', rowguid: 'l2' }]));
      expect([...rows.values()][0]).toMatchObject({ partition: '"B"', parent: 'o2' });
    });

    it('a moved row is removed from the view it left and sent whole to the one it entered', async () => {
      const [, , l1] = await commitRows(store, [stock('s1', 'A'), stock('s2', 'A'), line('l1', 'o1', '"A"')]);
      const before = await download(store, { after: 0, view: view('B') });
      expect(before.sent).toEqual([]);
      // s1 moves by its own write; l1 follows its order without being written (generation kept).
      await store.transaction(async (tx) => {
        const generation = await tx.allocateGenerations(1);
        await tx.writeRows([{ ...stock('s1', 'B'), generation }]);
        await tx.moveRows([
          { table: 'stock', rowguid: 's1', generation, from: '"A"', to: '"B"' },
          { table: 'lines', rowguid: 'l1', generation, from: '"A"', to: '"B"' },
        ]);
      });
      const toB = await download(store, { after: before.cursor, view: view('B'), exceptWriter: 'r-hq' });
      // Moved in: sent whole whoever wrote it, at its own generation.
      expect(toB.sent.sort()).toEqual(['lines/l1', 'stock/s1']);
      const page = await store.changesSince({ after: before.cursor, limit: 10, view: view('B') });
      expect(page.rows.find((row) => row.rowguid === 'l1')).toMatchObject({
        generation: l1!.generation,
        partition: '"B"',
      });
      const fromA = await download(store, { after: before.cursor, view: view('A') });
      expect(fromA.sent.sort()).toEqual(['-lines/l1', '-stock/s1']);
      expect(page.removals).toEqual([]);
      // A view that sees both sides sees no move, only the write; children are found by parent.
      expect((await download(store, { after: before.cursor, view: view('A', 'B') })).sent).toEqual(['stock/s1']);
      const children = await store.transaction((tx) => tx.childrenOf('lines', ['o1', 'o9']));
      expect(children.map((row) => [row.rowguid, row.partition])).toEqual([['l1', '"B"']]);
    });

    it('where a row stands now decides: moved out and back is sent, moved in and out again is removed', async () => {
      await commitRows(store, [line('l1', 'o1', '"A"'), line('l2', 'o2', '"A"')]);
      const move = (rowguid: string, from: string, to: string) =>
        store.transaction(async (tx) => {
          const generation = await tx.allocateGenerations(1);
          await tx.writeRows([{ ...stock(`s-${generation}`, 'Z'), generation }]);
          await tx.moveRows([{ table: 'lines', rowguid, generation, from, to }]);
        });
      await move('l1', '"A"', '"B"');
      await move('l1', '"B"', '"A"');
      await move('l2', '"A"', '"B"');
      const fromA = await download(store, { after: 2, view: view('A') }, 1);
      expect(fromA.sent).toEqual(['lines/l1', '-lines/l2']);
      const fromB = await download(store, { after: 2, view: view('B') }, 100);
      expect(fromB.sent).toEqual(['lines/l2', '-lines/l1']);
    });

    it('the fingerprint of the filters the rows are stamped for commits with its transaction', async () => {
      expect((await store.meta()).partitions).toBe('');
      await store.transaction((tx) => tx.setPartitions('f1'));
      await expect(
        store.transaction(async (tx) => {
          await tx.setPartitions('f2');
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect((await store.meta()).partitions).toBe('f1');
    });

    it('a view of hundreds of partitions reads as one query, with the same rows', async () => {
      await commitRows(store, [stock('s1', 'A'), stock('s2', 'B'), stock('s3', 'C'), product('p1')]);
      const many = view(...Array.from({ length: 300 }, (_, i) => `x${i}`), 'A', 'C');
      expect((await download(store, { after: 0, view: many })).sent).toEqual(['stock/s1', 'stock/s3', 'products/p1']);
    });

    it('a row that moves in counts its whole size in a page, as a row written in does', async () => {
      const big = (rowguid: string) => ({
        ...line(rowguid, 'o1', '"A"'),
        values: { orderId: 'o1', note: 'x'.repeat(1_000) },
      });
      await commitRows(store, [big('l1'), big('l2'), big('l3')]);
      for (const rowguid of ['l1', 'l2', 'l3']) {
        await store.transaction(async (tx) => {
          const generation = await tx.allocateGenerations(1);
          await tx.writeRows([{ ...product(`p-${rowguid}`), generation }]);
          await tx.moveRows([{ table: 'lines', rowguid, generation, from: '"A"', to: '"B"' }]);
        });
      }
      const pages: number[] = [];
      for (let after = 3, more = true; more;) {
        const page = await store.changesSince({ after, limit: 100, maxBytes: 1_500, view: view('B') });
        pages.push(page.rows.filter((row) => row.table === 'lines').length);
        [after, more] = [page.cursor, page.more];
      }
      expect(pages.every((count) => count <= 2)).toBe(true);
      expect(pages.reduce((sum, count) => sum + count, 0)).toBe(3);
    });
  });
}
