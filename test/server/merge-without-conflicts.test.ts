import { describe, expect, it } from 'vitest';
import type { FromReplicaChange } from '@concord/shared';
import { remove, upsert } from '../support/test-server';
import { merge, note, stockRow } from './merge-support';

describe('merge engine without conflicts', () => {
  it.each([
    {
      name: 'insert of a new row is applied as given',
      stored: undefined,
      change: upsert('notes', 'r1', { title: 'a' }, { gen: 1 }),
      outcome: 'applied',
      values: { title: 'a' },
      deleted: false,
    },
    {
      name: 'update on the generation the replica saw is applied over the stored row',
      stored: note({ title: 'a', body: 'x' }, { gen: 5, writer: 'replica-b' }),
      change: upsert('notes', 'r1', { title: 'b' }, { gen: 2, base: 5 }),
      outcome: 'applied',
      values: { title: 'b', body: 'x' },
      deleted: false,
    },
    {
      name: 'delete on the generation the replica saw becomes a tombstone keeping the last values',
      stored: note({ title: 'a' }, { gen: 5, writer: 'replica-b' }),
      change: remove('notes', 'r1', { gen: 2, base: 5 }),
      outcome: 'applied',
      values: { title: 'a' },
      deleted: true,
    },
  ])('$name', ({ stored, change, outcome, values, deleted }) => {
    const result = merge(stored, change);
    expect(result.outcome).toBe(outcome);
    expect(result.conflicts).toEqual([]);
    expect(result.write?.values).toEqual(values);
    expect(result.write?.deleted).toBe(deleted);
  });

  it('values identical to the live row are no conflict and write nothing, even as an insert over another replica’s row', () => {
    const stored = note({ title: 'a', rank: 2 }, { gen: 5, writer: 'replica-b' });
    // A version the uploader has not seen may hold columns it lacks: the answer brings the row (merged).
    expect(merge(stored, upsert('notes', 'r1', { title: 'a', rank: 2 }, { gen: 1 }))).toEqual({
      outcome: 'merged',
      conflicts: [],
    });
    expect(merge(stored, upsert('notes', 'r1', { title: 'a' }, { gen: 1, base: 3 }))).toEqual({
      outcome: 'merged',
      conflicts: [],
    });
    expect(merge(stored, upsert('notes', 'r1', { title: 'a' }, { gen: 1, base: 5 }))).toEqual({
      outcome: 'applied',
      conflicts: [],
    });
  });

  it('a change whose columns partly equal the live row conflicts only on the columns that differ', () => {
    const stored = note({ title: 'a', rank: 2 }, { gen: 5, writer: 'replica-b' });
    const result = merge(stored, upsert('notes', 'r1', { title: 'a', rank: 3 }, { gen: 1 }));
    expect(result.outcome).toBe('conflict');
    expect(result.conflicts.map((c) => c.columns)).toEqual([['rank']]);
    const columns = merge(
      stockRow({ qty: 1, sku: 'x' }, { qty: { gen: 5, writer: 'replica-b' }, sku: { gen: 5, writer: 'replica-b' } }),
      upsert('stock', 'r1', { qty: 1, sku: 'y' }, { gen: 1, base: 2 }),
    );
    expect(columns.conflicts.map((c) => c.columns)).toEqual([['sku']]);
  });

  it('a replace stores exactly its values, none of the old row’s columns, and conflicts like a delete', () => {
    const stored = note({ title: 'a', body: 'x', rank: 2 }, { gen: 5, writer: 'replica-b' });
    const replace = (base: number): FromReplicaChange => ({
      ...upsert('notes', 'r1', { title: 'new' }, { gen: 2, base, baseValues: { title: 'a', body: 'x', rank: 2 } }),
      replace: true,
    });
    const seen = merge(stored, replace(5));
    expect(seen).toMatchObject({ outcome: 'applied', conflicts: [] });
    expect(seen.write?.values).toEqual({ title: 'new' });
    const missed = merge(stored, replace(3));
    expect(missed.outcome).toBe('conflict');
    expect(missed.conflicts[0]).toMatchObject({ type: 'update-update', winner: 'replica-b' });
    expect(
      merge(stored, {
        ...upsert('notes', 'r1', { title: 'a', body: 'x', rank: 2 }, { gen: 2, base: 3 }),
        replace: true,
      }),
    ).toEqual({
      outcome: 'merged',
      conflicts: [],
    });
    const columns = merge(
      stockRow({ qty: 1, sku: 'x' }, { qty: { gen: 5, writer: 'replica-b' }, sku: { gen: 4, writer: 'replica-a' } }),
      { ...upsert('stock', 'r1', { qty: 2 }, { gen: 2, base: 5 }), replace: true },
    );
    expect(columns.write?.values).toEqual({ qty: 2 });
    expect([...columns.write!.touched.keys()].sort()).toEqual(['qty', 'sku']);
  });

  it('a blind change conflicts with whatever the server holds, its own versions and tombstones included', () => {
    const own = note({ title: 'a' }, { gen: 5, writer: 'replica-a' });
    const blind = (change: FromReplicaChange): FromReplicaChange => ({ ...change, blind: true });
    expect(merge(own, upsert('notes', 'r1', { title: 'b' }, { gen: 1, base: 9 })).outcome).toBe('applied');
    expect(merge(own, blind(upsert('notes', 'r1', { title: 'b' }, { gen: 1, base: 9 }))).outcome).toBe('conflict');
    const tombstone = note({ title: 'a' }, { gen: 5, writer: 'replica-a', deleted: true });
    expect(merge(tombstone, upsert('notes', 'r1', { title: 'b' }, { gen: 1, base: 9 })).conflicts).toEqual([]);
    expect(
      merge(tombstone, blind(upsert('notes', 'r1', { title: 'b' }, { gen: 1, base: 9 }))).conflicts[0],
    ).toMatchObject({
      type: 'update-delete',
    });
    expect(merge(own, blind(remove('notes', 'r1', { gen: 1, base: 9 }))).conflicts[0]).toMatchObject({
      type: 'delete-update',
    });
    expect(merge(undefined, blind(upsert('notes', 'r1', { title: 'b' }, { gen: 1 }))).outcome).toBe('applied');
  });

  it('a delete of a row that is already a tombstone writes nothing and logs nothing', () => {
    const result = merge(
      note({ title: 'a' }, { gen: 5, writer: 'replica-b', deleted: true }),
      remove('notes', 'r1', { gen: 2, base: 1 }),
    );
    expect(result).toEqual({ outcome: 'applied', conflicts: [] });
  });

  it("one replica's successive edits never conflict with each other, even without downloading its own upload", () => {
    // A wrote generation 7 from base 3 and edits again still believing base 3.
    const stored = note({ title: 'first edit' }, { gen: 7, writer: 'replica-a' });
    const result = merge(stored, upsert('notes', 'r1', { title: 'second edit' }, { gen: 9, base: 3 }));
    expect(result.outcome).toBe('applied');
    expect(result.write?.values).toEqual({ title: 'second edit' });
    expect(result.conflicts).toEqual([]);
  });

  it('column tracking: edits to different columns merge without a conflict', () => {
    const stored = stockRow(
      { sku: 'S', qty: 5, price: 2 },
      {
        sku: { gen: 1, writer: 'replica-b' },
        qty: { gen: 1, writer: 'replica-b' },
        price: { gen: 8, writer: 'replica-b' },
      },
    );
    const result = merge(stored, upsert('stock', 'r1', { qty: 9 }, { gen: 2, base: 1 }));
    expect(result.outcome).toBe('merged');
    expect(result.conflicts).toEqual([]);
    expect(result.write?.values).toEqual({ sku: 'S', qty: 9, price: 2 });
    expect([...result.write!.touched.keys()]).toEqual(['qty']);
  });
});
