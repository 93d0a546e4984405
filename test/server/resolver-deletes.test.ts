import { describe, expect, it } from 'vitest';
import type { FromReplicaChange } from '@concord/shared';
import { clientWins, serverWins, type ResolverConfig, type StoredRow } from '@concord/server';
import { mergeChange } from '../../server/src/merge/merge-change';
import { createResolverSet } from '../../server/src/resolvers/resolver-set';
import { remove, upsert } from '../support/test-server';
import { schema, useResolverWorld, type Race } from './resolver-support';

const { race } = useResolverWorld();

describe('delete conflicts: a table’s deletes rule overrides its row resolver', () => {
  const A = { id: 'replica-a', priority: 0 };
  const live: StoredRow = {
    table: 'tasks',
    rowguid: 'r1',
    values: { title: 'updated at the server' },
    deleted: false,
    generation: 8,
    writer: 'replica-b',
    priority: 0,
  };
  const tombstone: StoredRow = { ...live, values: { title: 'last values' }, deleted: true };
  const merge = (config: ResolverConfig, stored: StoredRow, change: FromReplicaChange) =>
    mergeChange(
      { table: schema.tables.tasks!, resolvers: createResolverSet(schema, config), replica: A },
      stored,
      change,
    );
  const update = upsert('tasks', 'r1', { title: 'edited' }, { gen: 2, base: 3 });
  const deletion = remove('tasks', 'r1', { gen: 2, base: 3 });

  it.each([
    {
      name: "deletes: 'win' — an uploaded delete beats the server's update, even under serverWins()",
      config: { tables: { tasks: { row: serverWins(), deletes: 'win' as const } } },
      stored: live,
      change: deletion,
      write: { values: { title: 'updated at the server' }, deleted: true },
      type: 'delete-update',
      resolver: 'deletes:win',
    },
    {
      name: "deletes: 'win' — the server's delete beats an uploaded update, even under clientWins()",
      config: { tables: { tasks: { row: clientWins(), deletes: 'win' as const } } },
      stored: tombstone,
      change: update,
      write: undefined,
      type: 'update-delete',
      resolver: 'deletes:win',
    },
    {
      name: "deletes: 'lose' — the server's update beats an uploaded delete, even under clientWins()",
      config: { tables: { tasks: { row: clientWins(), deletes: 'lose' as const } } },
      stored: live,
      change: deletion,
      write: undefined,
      type: 'delete-update',
      resolver: 'deletes:lose',
    },
    {
      name: "deletes: 'lose' — an uploaded update brings a deleted row back whole, even under serverWins()",
      config: { tables: { tasks: { row: serverWins(), deletes: 'lose' as const } } },
      stored: tombstone,
      change: update,
      write: { values: { title: 'edited' }, deleted: false },
      type: 'update-delete',
      resolver: 'deletes:lose',
    },
    {
      name: 'without a deletes rule the row resolver decides',
      config: { tables: { tasks: { row: clientWins() } } },
      stored: live,
      change: deletion,
      write: { values: { title: 'updated at the server' }, deleted: true },
      type: 'delete-update',
      resolver: 'clientWins',
    },
  ])('$name', ({ config, stored, change, write, type, resolver }) => {
    const result = merge(config, stored, change);
    expect(result.outcome).toBe('conflict');
    if (write) expect({ values: result.write?.values, deleted: result.write?.deleted }).toEqual(write);
    else expect(result.write).toBeUndefined();
    expect(result.conflicts).toMatchObject([{ type, resolver, status: 'resolved' }]);
  });

  it('an update–update conflict on a table with a deletes rule still goes to the row resolver', () => {
    const result = merge({ tables: { tasks: { row: clientWins(), deletes: 'win' } } }, live, update);
    expect(result.conflicts).toMatchObject([{ type: 'update-update', resolver: 'clientWins' }]);
    expect(result.write?.values).toEqual({ title: 'edited' });
  });

  it('the deletes rule holds over HTTP in both orders of arrival', async () => {
    const spec: Race = {
      name: 'deletes win',
      resolvers: { tables: { tasks: { deletes: 'win' } } },
      seed: { title: 'seed' },
      a: 'delete',
      b: { title: 'B' },
      ab: null,
      ba: null,
    };
    expect(await race(spec, 'ab')).toBeNull();
    expect(await race(spec, 'ba')).toBeNull();
    expect(await race({ ...spec, resolvers: { tables: { tasks: { deletes: 'lose' } } } }, 'ab')).toEqual({
      title: 'B',
    });
    expect(await race({ ...spec, resolvers: { tables: { tasks: { deletes: 'lose' } } } }, 'ba')).toEqual({
      title: 'B',
    });
  });
});
