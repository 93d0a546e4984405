import { describe, expect, it } from 'vitest';
import type { Resolver } from '@concord/shared';
import { upsert } from '../support/test-server';
import { A, merge, note } from './merge-support';

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
