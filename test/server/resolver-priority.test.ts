import { describe, expect, it } from 'vitest';
import {
  additive,
  average,
  clientWins,
  earlierWins,
  laterWins,
  manual,
  maximum,
  mergeText,
  minimum,
  priority,
  priorityColumn,
  serverWins,
} from '@concord/server';
import { conflict, kind } from './resolver-support';

describe('serverWins, clientWins, priority and manual', () => {
  const sides = { server: { title: 's' }, client: { title: 'c' } };
  it.each([
    ['serverWins keeps the server version whatever the priorities', serverWins(), { clientPriority: 90 }, 'server'],
    ['clientWins takes the uploaded version whatever the priorities', clientWins(), { serverPriority: 90 }, 'client'],
    ['priority: equal priority keeps the server version', priority(), {}, 'server'],
    ['priority: a higher uploading replica wins', priority(), { clientPriority: 50 }, 'client'],
    ['priority: a higher server version stays', priority(), { serverPriority: 50, clientPriority: 40 }, 'server'],
    ['serverWins on a delete at the server keeps the delete', serverWins(), { server: null }, 'server'],
    ['clientWins on an uploaded delete takes the delete', clientWins(), { client: null }, 'client'],
  ])('%s', (_name, resolver, extra, expected) => {
    expect(kind(resolver.resolve(conflict({ ...sides, ...extra })))).toBe(expected);
  });

  it('manual keeps the server version and leaves the conflict open', () => {
    expect(manual().resolve(conflict(sides))).toMatchObject({ kind: 'server', open: true });
  });

  it('each resolver has a name that says what it does', () => {
    expect(
      [
        priority(),
        serverWins(),
        clientWins(),
        laterWins('due'),
        earlierWins('due'),
        maximum('score'),
        minimum('rank'),
        priorityColumn('rank'),
        additive(),
        average(),
        mergeText(),
        mergeText({ delimiter: ' | ' }),
        manual(),
      ].map((resolver) => resolver.name),
    ).toEqual([
      'priority',
      'serverWins',
      'clientWins',
      'laterWins(due)',
      'earlierWins(due)',
      'maximum(score)',
      'minimum(rank)',
      'priorityColumn(rank)',
      'additive',
      'average',
      'mergeText',
      'mergeText(" | ")',
      'manual',
    ]);
  });
});
