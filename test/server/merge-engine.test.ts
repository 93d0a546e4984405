import { describe, expect, it } from 'vitest';
import type { FromReplicaChange, Resolver } from '@concord/shared';
import type { StoredRow } from '@concord/server';
import { mergeChange } from '../../server/src/merge/merge-change';
import type { MergeOutcome } from '../../server/src/merge/merge-outcome';
import { createResolverSet, type ResolverConfig } from '../../server/src/resolvers/resolver-set';
import { remove, testSchema, upsert } from '../support/test-server';

const A = { id: 'replica-a', priority: 0 };
const B = { id: 'replica-b', priority: 0 };
const HIGH = { id: 'replica-high', priority: 75 };

function merge(
  stored: StoredRow | undefined,
  change: FromReplicaChange,
  replica = A,
  config?: ResolverConfig,
): MergeOutcome {
  const table = testSchema.tables[change.table]!;
  return mergeChange({ table, resolvers: createResolverSet(testSchema, config), replica }, stored, change);
}

function note(
  values: Record<string, unknown>,
  opts: { gen: number; writer: string; priority?: number; deleted?: boolean },
): StoredRow {
  return {
    table: 'notes',
    rowguid: 'r1',
    values: values as StoredRow['values'],
    deleted: opts.deleted ?? false,
    generation: opts.gen,
    writer: opts.writer,
    priority: opts.priority ?? 0,
  };
}

function stockRow(
  values: Record<string, unknown>,
  columns: Record<string, { gen: number; writer: string; priority?: number }>,
): StoredRow {
  const gens = Object.values(columns).map((c) => c.gen);
  const newest = Object.values(columns).reduce((a, b) => (b.gen > a.gen ? b : a));
  return {
    table: 'stock',
    rowguid: 'r1',
    values: values as StoredRow['values'],
    deleted: false,
    generation: Math.max(...gens),
    writer: newest.writer,
    priority: 0,
    columns: Object.fromEntries(
      Object.entries(columns).map(([name, c]) => [
        name,
        { generation: c.gen, writer: c.writer, priority: c.priority ?? 0 },
      ]),
    ),
  };
}

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

describe('merge engine conflicts with the default priority resolver', () => {
  it.each([
    {
      name: 'row tracking: update–update, equal priority keeps the server version',
      stored: note({ title: 'server', body: 'b' }, { gen: 8, writer: 'replica-b' }),
      change: upsert('notes', 'r1', { body: 'client' }, { gen: 2, base: 3, baseValues: { body: 'old' } }),
      replica: A,
      type: 'update-update',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-b',
      loser: 'replica-a',
    },
    {
      name: 'row tracking: update–update, higher priority takes the uploaded version',
      stored: note({ title: 'server', body: 'b' }, { gen: 8, writer: 'replica-b' }),
      change: upsert('notes', 'r1', { body: 'client' }, { gen: 2, base: 3 }),
      replica: HIGH,
      type: 'update-update',
      outcome: 'conflict',
      write: { values: { title: 'server', body: 'client' }, deleted: false },
      winner: 'replica-high',
      loser: 'replica-b',
    },
    {
      name: 'a stored high-priority version is not overwritten by a later low-priority change',
      stored: note({ title: 'high' }, { gen: 8, writer: 'replica-high', priority: 75 }),
      change: upsert('notes', 'r1', { title: 'low' }, { gen: 2, base: 3 }),
      replica: B,
      type: 'update-update',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-high',
      loser: 'replica-b',
    },
    {
      name: 'update–delete: the server deleted, equal priority keeps the tombstone',
      stored: note({ title: 'gone' }, { gen: 8, writer: 'replica-b', deleted: true }),
      change: upsert('notes', 'r1', { title: 'edited' }, { gen: 2, base: 3 }),
      replica: A,
      type: 'update-delete',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-b',
      loser: 'replica-a',
    },
    {
      name: 'update–delete: a higher-priority update brings the row back whole',
      stored: note({ title: 'gone', body: 'kept' }, { gen: 8, writer: 'replica-b', deleted: true }),
      change: upsert('notes', 'r1', { title: 'edited' }, { gen: 2, base: 3 }),
      replica: HIGH,
      type: 'update-delete',
      outcome: 'conflict',
      write: { values: { title: 'edited', body: 'kept' }, deleted: false },
      winner: 'replica-high',
      loser: 'replica-b',
    },
    {
      name: 'delete–update: the server updated, equal priority keeps the row',
      stored: note({ title: 'updated' }, { gen: 8, writer: 'replica-b' }),
      change: remove('notes', 'r1', { gen: 2, base: 3 }),
      replica: A,
      type: 'delete-update',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-b',
      loser: 'replica-a',
    },
    {
      name: 'delete–update: a higher-priority delete wins',
      stored: note({ title: 'updated' }, { gen: 8, writer: 'replica-b' }),
      change: remove('notes', 'r1', { gen: 2, base: 3 }),
      replica: HIGH,
      type: 'delete-update',
      outcome: 'conflict',
      write: { values: { title: 'updated' }, deleted: true },
      winner: 'replica-high',
      loser: 'replica-b',
    },
    {
      name: 'insert–insert of one rowguid is an update from base generation 0',
      stored: note({ title: 'first' }, { gen: 4, writer: 'replica-b' }),
      change: upsert('notes', 'r1', { title: 'second' }, { gen: 1, base: 0 }),
      replica: A,
      type: 'insert-insert',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-b',
      loser: 'replica-a',
    },
    {
      name: 'column tracking: the same column conflicts',
      stored: stockRow(
        { sku: 'S', qty: 5 },
        { sku: { gen: 1, writer: 'replica-b' }, qty: { gen: 8, writer: 'replica-b' } },
      ),
      change: upsert('stock', 'r1', { qty: 9 }, { gen: 2, base: 1, baseValues: { qty: 4 } }),
      replica: A,
      type: 'update-update',
      outcome: 'conflict',
      write: undefined,
      winner: 'replica-b',
      loser: 'replica-a',
    },
  ])('$name', ({ stored, change, replica, type, outcome, write, winner, loser }) => {
    const result = merge(stored, change, replica);
    expect(result.outcome).toBe(outcome);
    if (write) expect({ values: result.write?.values, deleted: result.write?.deleted }).toEqual(write);
    else expect(result.write).toBeUndefined();
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]).toMatchObject({ type, winner, loser, resolver: 'priority', status: 'resolved' });
  });

  it('column tracking: a conflicting column and a free column — the free one applies, the conflict is logged for one column', () => {
    const stored = stockRow(
      { sku: 'S', qty: 5, price: 1 },
      {
        sku: { gen: 1, writer: 'replica-b' },
        qty: { gen: 8, writer: 'replica-b' },
        price: { gen: 1, writer: 'replica-b' },
      },
    );
    const result = merge(stored, upsert('stock', 'r1', { qty: 9, price: 3 }, { gen: 2, base: 1 }));
    expect(result.outcome).toBe('conflict');
    expect(result.write?.values).toEqual({ sku: 'S', qty: 5, price: 3 });
    expect(result.conflicts).toHaveLength(1);
    expect(result.conflicts[0]).toMatchObject({
      columns: ['qty'],
      winningValues: { qty: 5 },
      losingValues: { qty: 9 },
    });
  });

  it('the conflict log records both versions', () => {
    const stored = note({ title: 'server' }, { gen: 8, writer: 'replica-b' });
    const [conflict] = merge(stored, upsert('notes', 'r1', { title: 'client' }, { gen: 2, base: 3 })).conflicts;
    expect(conflict).toMatchObject({
      columns: ['title'],
      winningValues: { title: 'server' },
      losingValues: { title: 'client' },
    });
    expect(conflict!.reason).toMatch(/server version/);
  });
});

describe('merge engine guards against bad resolvers', () => {
  const stored = note({ title: 'server' }, { gen: 8, writer: 'replica-b' });
  const change = upsert('notes', 'r1', { title: 'client' }, { gen: 2, base: 3 });
  const withResolver = (resolve: Resolver['resolve']) => ({ tables: { notes: { row: { name: 'custom', resolve } } } });

  it.each([
    {
      name: 'a resolver that throws',
      resolve: () => {
        throw new Error('boom');
      },
      reason: /threw: boom/,
    },
    {
      name: 'a resolver that returns nonsense',
      resolve: () => ({ kind: 'maybe' }) as never,
      reason: /unknown resolution/,
    },
    {
      name: 'a merge with a value of the wrong type',
      resolve: () => ({ kind: 'merge' as const, values: { rank: 'x' } }),
      reason: /does not fit column "rank"/,
    },
    {
      name: 'a merge with an unknown column',
      resolve: () => ({ kind: 'merge' as const, values: { nope: 1 } }),
      reason: /not one it may decide/,
    },
  ])('$name is a logged rejection and the server version stands', ({ resolve, reason }) => {
    const result = merge(stored, change, A, withResolver(resolve as Resolver['resolve']));
    expect(result.outcome).toBe('rejected');
    expect(result.write).toBeUndefined();
    expect(result.reason).toMatch(reason);
    expect(result.conflicts[0]).toMatchObject({ resolver: 'custom', status: 'resolved' });
  });

  it('a merge resolution writes the merged values', () => {
    const result = merge(
      stored,
      change,
      A,
      withResolver(() => ({ kind: 'merge', values: { title: 'server+client' } })),
    );
    expect(result.outcome).toBe('conflict');
    expect(result.write?.values).toEqual({ title: 'server+client' });
    expect(result.conflicts[0]).toMatchObject({ winner: null, loser: null, winningValues: { title: 'server+client' } });
  });

  it('a resolver that leaves the conflict open keeps the server version and marks the entry open', () => {
    const result = merge(
      stored,
      change,
      A,
      withResolver(() => ({ kind: 'server', open: true })),
    );
    expect(result.write).toBeUndefined();
    expect(result.conflicts[0]!.status).toBe('open');
  });
});
