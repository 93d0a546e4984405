import { Dexie } from 'dexie';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it, vi } from 'vitest';
import { useTestWorld } from '../support/test-world';
import { expectConverged } from '../support/test-replica';

const { start, replica } = useTestWorld();

describe('a replica database made by an earlier version', () => {
  it('upgrades in place, quietly, with its rows and its outbox', async () => {
    const server = start();
    const indexedDB = new IDBFactory();
    // The layout before `_deleted`, at the bare schema version, with a row and its pending change.
    const old = new Dexie('upgraded', { indexedDB, IDBKeyRange });
    old.version(1).stores({
      _changes: '[table+rowguid], localGeneration',
      _state: 'key',
      _conflicts: 'id, status, table',
      notes: 'id',
      stock: 'id',
    });
    await old.table('notes').put({ id: 'n1', title: 'kept' });
    await old.table('_changes').put({
      table: 'notes',
      rowguid: 'n1',
      op: 'upsert',
      columns: ['title'],
      base: {},
      baseGeneration: 0,
      localGeneration: 1,
      inserted: true,
    });
    await old.table('_state').put({ key: 'localGeneration', value: 1 });
    old.close();
    const warn = vi.spyOn(console, 'warn');
    const a = await replica({ indexedDB, name: 'upgraded' });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(a.status.pending).toBe(1);
    await a.sync();
    await expectConverged(server, a);
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'kept' });
  });
});
