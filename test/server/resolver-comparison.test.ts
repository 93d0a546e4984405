import { describe, expect, it } from 'vitest';
import type { Resolver, Resolution } from '@concord/shared';
import { earlierWins, laterWins, maximum, minimum, priorityColumn } from '@concord/server';
import { conflict, kind, type Sides } from './resolver-support';

describe('comparison resolvers: laterWins, earlierWins, maximum, minimum, priorityColumn', () => {
  const MAY1 = '2024-05-01T10:00:00Z';
  const MAY2 = '2024-05-02T09:00:00Z';
  it.each<[string, Resolver, Sides, Resolution['kind']]>([
    [
      'laterWins: the later uploaded date wins',
      laterWins('due'),
      { server: { due: MAY1 }, client: { due: MAY2 } },
      'client',
    ],
    [
      'laterWins: the later server date stays',
      laterWins('due'),
      { server: { due: MAY2 }, client: { due: MAY1 } },
      'server',
    ],
    [
      'laterWins compares instants, not strings: 12:00+02:00 is earlier than 11:00Z',
      laterWins('due'),
      { server: { due: '2024-05-01T12:00:00+02:00' }, client: { due: '2024-05-01T11:00:00Z' } },
      'client',
    ],
    ['laterWins on a number column', laterWins('rank'), { server: { rank: 9 }, client: { rank: 10 } }, 'client'],
    [
      'laterWins: a null uploaded date loses',
      laterWins('due'),
      { server: { due: MAY1 }, client: { due: null } },
      'server',
    ],
    [
      'laterWins: a null server date loses',
      laterWins('due'),
      { server: { due: null }, client: { due: MAY1 } },
      'client',
    ],
    [
      'laterWins: a missing value counts as null',
      laterWins('due'),
      { server: { due: MAY1 }, client: { title: 'c' } },
      'server',
    ],
    [
      'laterWins: equal dates fall to priority (equal: server)',
      laterWins('due'),
      { server: { due: MAY1 }, client: { due: MAY1 } },
      'server',
    ],
    [
      'laterWins: equal dates fall to priority (higher uploader wins)',
      laterWins('due'),
      { server: { due: MAY1 }, client: { due: MAY1 }, clientPriority: 10 },
      'client',
    ],
    [
      'laterWins: two nulls fall to priority (higher server stays)',
      laterWins('due'),
      { server: { due: null }, client: { due: null }, serverPriority: 10, clientPriority: 5 },
      'server',
    ],
    [
      'laterWins: a delete at the server counts as null and loses',
      laterWins('due'),
      { server: null, client: { due: MAY1 } },
      'client',
    ],
    [
      'laterWins: an uploaded delete counts as null and loses',
      laterWins('due'),
      { server: { due: MAY1 }, client: null },
      'server',
    ],
    [
      'laterWins: a delete against an update whose date is null is a tie: priority decides',
      laterWins('due'),
      { server: { due: null }, client: null, clientPriority: 20 },
      'client',
    ],
    [
      'earlierWins: the earlier uploaded date wins',
      earlierWins('due'),
      { server: { due: MAY2 }, client: { due: MAY1 } },
      'client',
    ],
    ['earlierWins: a null still loses', earlierWins('due'), { server: { due: MAY2 }, client: { due: null } }, 'server'],
    ['earlierWins on a number column', earlierWins('rank'), { server: { rank: 1 }, client: { rank: 2 } }, 'server'],
    [
      'maximum: the larger number wins, numerically',
      maximum('score'),
      { server: { score: 9.5 }, client: { score: 10 } },
      'client',
    ],
    ['maximum: negative numbers', maximum('score'), { server: { score: -1 }, client: { score: -2 } }, 'server'],
    ['maximum on a date column', maximum('due'), { server: { due: MAY1 }, client: { due: MAY2 } }, 'client'],
    [
      'maximum: null loses even against a negative number',
      maximum('score'),
      { server: { score: null }, client: { score: -5 } },
      'client',
    ],
    [
      'maximum: ties fall to priority',
      maximum('score'),
      { server: { score: 3 }, client: { score: 3 }, serverPriority: 1 },
      'server',
    ],
    ['minimum: the smaller number wins', minimum('rank'), { server: { rank: 5 }, client: { rank: 4 } }, 'client'],
    [
      'minimum: null loses rather than counting as smallest',
      minimum('rank'),
      { server: { rank: 5 }, client: { rank: null } },
      'server',
    ],
    [
      'minimum: ties fall to priority',
      minimum('rank'),
      { server: { rank: 5 }, client: { rank: 5 }, clientPriority: 1 },
      'client',
    ],
    [
      'priorityColumn: the larger number wins',
      priorityColumn('rank'),
      { server: { rank: 3 }, client: { rank: 7 } },
      'client',
    ],
    [
      'priorityColumn: equal numbers fall to priority',
      priorityColumn('rank'),
      { server: { rank: 7 }, client: { rank: 7 } },
      'server',
    ],
    [
      'priorityColumn: a delete loses to a ranked update',
      priorityColumn('rank'),
      { server: { rank: 0 }, client: null },
      'server',
    ],
  ])('%s', (_name, resolver, sides, expected) => {
    expect(kind(resolver.resolve(conflict(sides)))).toBe(expected);
  });

  it('a value that is neither a number nor a date is refused with the reason, never guessed at', () => {
    const resolution = laterWins('due').resolve(conflict({ server: { due: 'soon' }, client: { due: '2024-05-01' } }));
    expect(resolution).toEqual({
      kind: 'reject',
      reason: 'laterWins(due): the server value "soon" is not a number or a date',
    });
  });

  it('the reason names the resolver, the column and why', () => {
    expect(laterWins('due').resolve(conflict({ server: { due: MAY1 }, client: { due: MAY2 } })).reason).toBe(
      'laterWins(due): the uploaded version has the later due',
    );
    expect(maximum('score').resolve(conflict({ server: { score: 1 }, client: { score: 1 } })).reason).toBe(
      'maximum(score): both have the same score; equal priority keeps the server version',
    );
  });

  it('a comparison factory without a column is a configuration error', () => {
    expect(() => laterWins('')).toThrow('laterWins(column) needs the name of the column to compare');
  });
});
