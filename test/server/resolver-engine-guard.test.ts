import { describe, expect, it } from 'vitest';
import type { Resolver } from '@concord/shared';
import { additive, average, mergeText, type StoredRow } from '@concord/server';
import { mergeChange } from '../../server/src/merge/merge-change';
import { createResolverSet } from '../../server/src/resolvers/resolver-set';
import { upsert } from '../support/test-server';
import { schema } from './resolver-support';

describe('every new resolver is guarded by the engine', () => {
  const stored: StoredRow = {
    table: 'tasks',
    rowguid: 'r1',
    values: { title: 'server', rank: 1 },
    deleted: false,
    generation: 8,
    writer: 'replica-b',
    priority: 0,
  };
  const change = upsert('tasks', 'r1', { title: 'client', rank: 2 }, { gen: 2, base: 3, baseValues: { rank: 1 } });
  it.each([
    ['additive on a string column', additive(), /additive: the server value of tasks.title/],
    ['average on a string column', average(), /average: the server value of tasks.title/],
    ['mergeText on an integer column', mergeText(), /mergeText: the server value of tasks.rank/],
  ])('%s is a logged rejection and the server version stands', (_name, resolver, reason) => {
    const result = mergeChange(
      {
        table: schema.tables.tasks!,
        resolvers: createResolverSet(schema, { tables: { tasks: { row: resolver } } }),
        replica: { id: 'replica-a', priority: 0 },
      },
      stored,
      change,
    );
    expect(result.outcome).toBe('rejected');
    expect(result.write).toBeUndefined();
    expect(result.reason).toMatch(reason);
    expect(result.conflicts[0]).toMatchObject({ resolver: resolver.name, status: 'resolved' });
  });

  it('an average that cannot fit an integer column is refused by the engine, not written', () => {
    const halves: Resolver = { name: 'halves', resolve: () => ({ kind: 'merge', values: { rank: 1.5 } }) };
    const result = mergeChange(
      {
        table: schema.tables.tasks!,
        resolvers: createResolverSet(schema, { tables: { tasks: { row: halves } } }),
        replica: { id: 'replica-a', priority: 0 },
      },
      stored,
      change,
    );
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/does not fit column "rank"/) });
  });
});
