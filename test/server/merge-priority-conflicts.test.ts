import { describe, expect, it } from 'vitest';
import { remove, upsert } from '../support/test-server';
import { A, B, HIGH, merge, note, stockRow } from './merge-support';

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
