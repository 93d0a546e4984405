import { afterEach, describe, expect, it } from 'vitest';
import {
  defineSchema,
  type ConflictInput,
  type ConflictType,
  type FromReplicaChange,
  type Resolution,
  type Resolver,
  type RowValues,
} from '@concord/shared';
import {
  additive,
  average,
  clientWins,
  createSqliteStore,
  createSyncServer,
  earlierWins,
  laterWins,
  manual,
  maximum,
  mergeText,
  minimum,
  priority,
  priorityColumn,
  serverWins,
  type ResolverConfig,
  type StoredRow,
} from '@concord/server';
import { mergeChange } from '../../server/src/merge/merge-change';
import { createResolverSet } from '../../server/src/resolvers/resolver-set';
import { createTestServer, remove, upsert, type TestServer } from '../support/test-server';

/** Row-tracked `tasks`, column-tracked `counts`, and one table of each direction. */
const schema = defineSchema({
  version: 1,
  tables: {
    tasks: {
      columns: {
        title: 'string',
        body: 'string',
        rank: 'integer',
        score: 'number',
        due: 'date',
        done: 'boolean',
        meta: 'json',
      },
    },
    counts: {
      columns: { qty: 'integer', price: 'number', text: 'string', seen: 'date', label: 'string' },
      tracking: 'column',
    },
    audit: { columns: { message: 'string' }, direction: 'upload-only' },
    rates: { columns: { amount: 'number' }, direction: 'download-only' },
  },
});

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

function open(options: Parameters<typeof createTestServer>[0] = {}): TestServer {
  const server = createTestServer({ schema, ...options });
  servers.push(server);
  return server;
}

interface Sides {
  server: RowValues | null;
  client: RowValues | null;
  base?: RowValues;
  columns?: string[];
  serverPriority?: number;
  clientPriority?: number;
  table?: string;
  type?: ConflictType;
}

/** A conflict as the engine would hand it to a resolver. */
function conflict(sides: Sides): ConflictInput {
  const table = sides.table ?? 'tasks';
  return {
    table,
    type:
      sides.type ??
      (sides.server === null ? 'update-delete' : sides.client === null ? 'delete-update' : 'update-update'),
    columns: sides.columns ?? Object.keys(sides.client ?? sides.server ?? {}),
    base: sides.base ?? {},
    server: { values: sides.server, replicaId: 'replica-s', priority: sides.serverPriority ?? 0 },
    client: { values: sides.client, replicaId: 'replica-c', priority: sides.clientPriority ?? 0 },
    columnTypes: schema.tables[table]!.columns,
  };
}

const kind = (resolution: Resolution) => resolution.kind;

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

describe('column-scope resolvers: additive, average, mergeText', () => {
  const counts = (sides: Omit<Sides, 'table'>) => conflict({ table: 'counts', columns: ['qty'], ...sides });
  it.each<[string, Resolver, Sides, Resolution]>([
    [
      'additive merges both deltas from the base: 10 → 12 and 10 → 7 give 9',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 10 }, server: { qty: 12 }, client: { qty: 7 } },
      { kind: 'merge', values: { qty: 9 } },
    ],
    [
      'additive: two equal sales from one base both count',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 10 }, server: { qty: 8 }, client: { qty: 8 } },
      { kind: 'merge', values: { qty: 6 } },
    ],
    [
      'additive: a missing base counts as 0, so two inserts add up',
      additive(),
      { table: 'counts', columns: ['qty'], server: { qty: 5 }, client: { qty: 3 } },
      { kind: 'merge', values: { qty: 8 } },
    ],
    [
      'additive: a null base counts as 0',
      additive(),
      { table: 'counts', columns: ['price'], base: { price: null }, server: { price: 1.5 }, client: { price: 2 } },
      { kind: 'merge', values: { price: 3.5 } },
    ],
    [
      'additive: a null server value takes the uploaded value',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 1 }, server: { qty: null }, client: { qty: 4 } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'additive: a null uploaded value takes the server value',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 1 }, server: { qty: 4 }, client: { qty: null } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'additive: two nulls stay null',
      additive(),
      { table: 'counts', columns: ['qty'], server: { qty: null }, client: { qty: null } },
      { kind: 'merge', values: { qty: null } },
    ],
    [
      'additive as a row resolver merges every conflicting column',
      additive(),
      {
        columns: ['rank', 'score'],
        base: { rank: 1, score: 1 },
        server: { title: 't', rank: 3, score: 1 },
        client: { title: 't', rank: 2, score: 0.5 },
      },
      { kind: 'merge', values: { rank: 4, score: 0.5 } },
    ],
    [
      'average: the mean of the two values',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 4 }, client: { price: 7 } },
      { kind: 'merge', values: { price: 5.5 } },
    ],
    [
      'average: an integer column is rounded so the mean fits',
      average(),
      { table: 'counts', columns: ['qty'], base: { qty: 0 }, server: { qty: 3 }, client: { qty: 4 } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'average: a side still at the base did not change the column, so the other is taken',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 1 }, client: { price: 9 } },
      { kind: 'merge', values: { price: 9 } },
    ],
    [
      'average: a null side takes the other value',
      average(),
      { table: 'counts', columns: ['price'], server: { price: null }, client: { price: 9 } },
      { kind: 'merge', values: { price: 9 } },
    ],
    [
      'average: equal values stay',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 2 }, client: { price: 2 } },
      { kind: 'merge', values: { price: 2 } },
    ],
    [
      'mergeText: common prefix, the server part, the delimiter, the uploaded part',
      mergeText(),
      {
        table: 'counts',
        columns: ['text'],
        base: { text: 'Buy milk' },
        server: { text: 'Buy milk and eggs' },
        client: { text: 'Buy milk and bread' },
      },
      { kind: 'merge', values: { text: 'Buy milk and eggs\nbread' } },
    ],
    [
      'mergeText: a custom delimiter',
      mergeText({ delimiter: ' | ' }),
      { table: 'counts', columns: ['text'], base: { text: '' }, server: { text: 'left' }, client: { text: 'right' } },
      { kind: 'merge', values: { text: 'left | right' } },
    ],
    [
      'mergeText: equal texts stay as they are',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'a' }, server: { text: 'ab' }, client: { text: 'ab' } },
      { kind: 'merge', values: { text: 'ab' } },
    ],
    [
      'mergeText: a side that did not edit the text takes the other text',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'abc' }, server: { text: 'abc' }, client: { text: 'abcd' } },
      { kind: 'merge', values: { text: 'abcd' } },
    ],
    [
      'mergeText: no delimiter when one side only extends the other',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'ab' }, server: { text: 'abc' }, client: { text: 'abcdef' } },
      { kind: 'merge', values: { text: 'abcdef' } },
    ],
    [
      'mergeText never splits a surrogate pair',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'a' }, server: { text: 'a😀' }, client: { text: 'a😃' } },
      { kind: 'merge', values: { text: 'a😀\n😃' } },
    ],
    [
      'mergeText: a null side takes the other text',
      mergeText(),
      { table: 'counts', columns: ['text'], server: { text: 'kept' }, client: { text: null } },
      { kind: 'merge', values: { text: 'kept' } },
    ],
  ])('%s', (_name, resolver, sides, expected) => {
    expect(resolver.resolve(conflict(sides))).toEqual(expected);
  });

  it.each([
    ['additive', additive(), { qty: 'many' }, 'additive: the server value of counts.qty, "many", is not a number'],
    ['average', average(), { qty: true }, 'average: the server value of counts.qty, true, is not a number'],
    ['mergeText', mergeText(), { qty: 3 }, 'mergeText: the server value of counts.qty, 3, is not a string'],
  ])('%s refuses a value of the wrong kind with the reason', (_name, resolver, server, reason) => {
    expect(resolver.resolve(counts({ server, client: { qty: 1 } }))).toEqual({ kind: 'reject', reason });
  });

  it.each([
    ['additive', additive()],
    ['average', average()],
    ['mergeText', mergeText()],
  ])('%s cannot merge a delete: the conflict falls to priority', (_name, resolver) => {
    expect(kind(resolver.resolve(counts({ server: null, client: { qty: 1 } })))).toBe('server');
    expect(kind(resolver.resolve(counts({ server: null, client: { qty: 1 }, clientPriority: 5 })))).toBe('client');
    expect(resolver.resolve(counts({ server: { qty: 1 }, client: null })).reason).toMatch(/a delete cannot be merged/);
  });
});

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

type Edit = RowValues | 'delete';

interface Race {
  name: string;
  resolvers: ResolverConfig;
  table?: string;
  seed: RowValues;
  a: Edit;
  b: Edit;
  /** Replica priorities of A and B; default 0 each. */
  priorities?: [number, number];
  /** The surviving row (null: deleted) when A reaches the server first, and when B does. */
  ab: RowValues | null;
  ba: RowValues | null;
}

/**
 * Two replicas edit one seeded row from the same base and upload in the given order, over
 * HTTP. Returns the row the server ends with (null for a tombstone).
 */
async function race(spec: Race, order: 'ab' | 'ba'): Promise<RowValues | null> {
  const priorities = [0, ...(spec.priorities ?? [0, 0])];
  let next = 0;
  const server = open({ resolvers: spec.resolvers, replicaPriority: () => priorities[next++] ?? 0 });
  const table = spec.table ?? 'tasks';
  const seeder = (await server.register()).replicaId;
  const replicas = { a: (await server.register()).replicaId, b: (await server.register()).replicaId };
  const [seeded] = (await server.push(seeder, [upsert(table, 'r1', spec.seed, { gen: 1 })])).results;
  const base = seeded!.generation;
  const changeOf = (edit: Edit): FromReplicaChange => {
    if (edit === 'delete') return remove(table, 'r1', { gen: 1, base });
    const baseValues = Object.fromEntries(Object.keys(edit).map((column) => [column, spec.seed[column] ?? null]));
    return upsert(table, 'r1', edit, { gen: 1, base, baseValues });
  };
  for (const who of order === 'ab' ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
    await server.push(replicas[who], [changeOf(spec[who])]);
  }
  const row = (await server.store.changesSince({ after: 0, limit: 100 })).rows.find((r) => r.rowguid === 'r1')!;
  return row.deleted ? null : row.values;
}

const JAN = '2024-01-01T00:00:00.000Z';
const FEB = '2024-02-01T00:00:00.000Z';
const MAR = '2024-03-01T00:00:00.000Z';

describe('the same two versions in either order of arrival', () => {
  it.each<Race>([
    {
      name: 'laterWins(due): the later edit survives whichever arrives first',
      resolvers: { tables: { tasks: { row: laterWins('due') } } },
      seed: { title: 'seed', due: JAN },
      a: { title: 'A', due: MAR },
      b: { title: 'B', due: FEB },
      ab: { title: 'A', due: MAR },
      ba: { title: 'A', due: MAR },
    },
    {
      name: 'earlierWins(due): the earlier edit survives whichever arrives first',
      resolvers: { tables: { tasks: { row: earlierWins('due') } } },
      seed: { title: 'seed', due: JAN },
      a: { title: 'A', due: MAR },
      b: { title: 'B', due: FEB },
      ab: { title: 'B', due: FEB },
      ba: { title: 'B', due: FEB },
    },
    {
      name: 'laterWins(due): an update beats a delete (the delete counts as null) in both orders',
      resolvers: { tables: { tasks: { row: laterWins('due') } } },
      seed: { title: 'seed', due: JAN },
      a: 'delete',
      b: { due: FEB },
      ab: { title: 'seed', due: FEB },
      ba: { title: 'seed', due: FEB },
    },
    {
      name: 'laterWins(due): a tie goes to the higher priority in both orders',
      resolvers: { tables: { tasks: { row: laterWins('due') } } },
      priorities: [0, 30],
      seed: { title: 'seed', due: JAN },
      a: { title: 'A', due: FEB },
      b: { title: 'B', due: FEB },
      ab: { title: 'B', due: FEB },
      ba: { title: 'B', due: FEB },
    },
    {
      name: 'maximum(score): the larger number survives',
      resolvers: { tables: { tasks: { row: maximum('score') } } },
      seed: { title: 'seed', score: 1 },
      a: { title: 'A', score: 9.5 },
      b: { title: 'B', score: 10 },
      ab: { title: 'B', score: 10 },
      ba: { title: 'B', score: 10 },
    },
    {
      name: 'minimum(rank): the smaller number survives; a null loses',
      resolvers: { tables: { tasks: { row: minimum('rank') } } },
      seed: { title: 'seed', rank: 5 },
      a: { title: 'A', rank: null },
      b: { title: 'B', rank: 7 },
      ab: { title: 'B', rank: 7 },
      ba: { title: 'B', rank: 7 },
    },
    {
      name: 'priorityColumn(rank): the larger rank survives',
      resolvers: { tables: { tasks: { row: priorityColumn('rank') } } },
      seed: { title: 'seed', rank: 0 },
      a: { title: 'A', rank: 2 },
      b: { title: 'B', rank: 1 },
      ab: { title: 'A', rank: 2 },
      ba: { title: 'A', rank: 2 },
    },
    {
      name: 'additive() on a column-tracked counter: both deltas count (10 + 2 − 3)',
      resolvers: { tables: { counts: { columns: { qty: additive() } } } },
      table: 'counts',
      seed: { qty: 10 },
      a: { qty: 12 },
      b: { qty: 7 },
      ab: { qty: 9 },
      ba: { qty: 9 },
    },
    {
      name: 'additive() as a row resolver merges the numbers and keeps the rest of the row',
      resolvers: { tables: { tasks: { row: additive() } } },
      seed: { title: 'seed', rank: 10 },
      a: { rank: 13 },
      b: { rank: 8 },
      ab: { title: 'seed', rank: 11 },
      ba: { title: 'seed', rank: 11 },
    },
    {
      name: 'average() on a column-tracked price',
      resolvers: { tables: { counts: { columns: { price: average() } } } },
      table: 'counts',
      seed: { price: 10 },
      a: { price: 12 },
      b: { price: 20 },
      ab: { price: 16 },
      ba: { price: 16 },
    },
    {
      name: 'priority(): equal priority — the first to reach the server wins',
      resolvers: {},
      seed: { title: 'seed' },
      a: { title: 'A' },
      b: { title: 'B' },
      ab: { title: 'A' },
      ba: { title: 'B' },
    },
    {
      name: 'priority(): the higher replica wins in both orders',
      resolvers: {},
      priorities: [40, 0],
      seed: { title: 'seed' },
      a: { title: 'A' },
      b: { title: 'B' },
      ab: { title: 'A' },
      ba: { title: 'A' },
    },
    {
      name: 'serverWins(): the first to reach the server wins, whatever the priorities',
      resolvers: { default: serverWins() },
      priorities: [0, 90],
      seed: { title: 'seed' },
      a: { title: 'A' },
      b: { title: 'B' },
      ab: { title: 'A' },
      ba: { title: 'B' },
    },
    {
      name: 'clientWins(): the last to reach the server wins',
      resolvers: { default: clientWins() },
      seed: { title: 'seed' },
      a: { title: 'A' },
      b: { title: 'B' },
      ab: { title: 'B' },
      ba: { title: 'A' },
    },
    {
      name: 'manual(): the first version stands until a person decides',
      resolvers: { default: manual() },
      seed: { title: 'seed' },
      a: { title: 'A' },
      b: { title: 'B' },
      ab: { title: 'A' },
      ba: { title: 'B' },
    },
    {
      name: 'mergeText(): both edits are kept, the first to arrive first',
      resolvers: { tables: { counts: { columns: { text: mergeText() } } } },
      table: 'counts',
      seed: { text: 'Call ' },
      a: { text: 'Call Ann' },
      b: { text: 'Call Bob' },
      ab: { text: 'Call Ann\nBob' },
      ba: { text: 'Call Bob\nAnn' },
    },
  ])('$name', async (spec) => {
    expect(await race(spec, 'ab')).toEqual(spec.ab);
    expect(await race(spec, 'ba')).toEqual(spec.ba);
  });
});

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

describe('resolver configuration is checked at startup', () => {
  const bad = (name: string, config: unknown, message: string | RegExp) => ({ name, config, message });
  it.each([
    bad('an unknown table', { tables: { nope: {} } }, 'resolvers.tables.nope: unknown table "nope"'),
    bad(
      'an unknown column',
      { tables: { counts: { columns: { nope: maximum('qty') } } } },
      'resolvers.tables.counts.columns.nope: unknown column "counts.nope"',
    ),
    bad(
      'a column resolver on a row-tracked table',
      { tables: { tasks: { columns: { rank: additive() } } } },
      `resolvers.tables.tasks.columns.rank: "tasks" uses row tracking; per-column resolvers need tracking: 'column'`,
    ),
    bad(
      'direction in the resolver configuration',
      { tables: { audit: { direction: 'upload-only' } } },
      `resolvers.tables.audit: unknown option "direction"; use row, columns, deletes (a table's direction is declared in the schema)`,
    ),
    bad(
      'a deletes rule that is neither win nor lose',
      { tables: { tasks: { deletes: 'maybe' } } },
      `resolvers.tables.tasks.deletes must be 'win' or 'lose', got "maybe"`,
    ),
    bad(
      'something that is not a resolver',
      { tables: { tasks: { row: { name: 'half' } } } },
      'resolvers.tables.tasks.row: not a resolver; a resolver is { name, resolve(input) }',
    ),
    bad('a default that is not a resolver', { default: 'priority' }, 'resolvers.default: not a resolver'),
    bad(
      'a compared column the table lacks',
      { tables: { tasks: { row: laterWins('updatedAt') } } },
      'resolvers.tables.tasks.row: laterWins(updatedAt) reads column "updatedAt", which table "tasks" does not have',
    ),
    bad(
      'a default whose column some table without its own row resolver lacks',
      { default: laterWins('due'), tables: { tasks: {} } },
      'resolvers.default: laterWins(due) reads column "due", which table "counts" does not have',
    ),
    bad(
      'laterWins on a string column',
      { tables: { tasks: { row: laterWins('title') } } },
      'resolvers.tables.tasks.row: laterWins(title) needs a column of type date or number or integer, but "tasks.title" is string',
    ),
    bad(
      'earlierWins on a boolean column',
      { tables: { tasks: { row: earlierWins('done') } } },
      'earlierWins(done) needs a column of type date or number or integer, but "tasks.done" is boolean',
    ),
    bad(
      'maximum on a json column',
      { tables: { tasks: { row: maximum('meta') } } },
      'maximum(meta) needs a column of type number or integer or date, but "tasks.meta" is json',
    ),
    bad(
      'minimum on a string column, per column',
      { tables: { counts: { columns: { qty: minimum('label') } } } },
      'resolvers.tables.counts.columns.qty: minimum(label) needs a column of type number or integer or date, but "counts.label" is string',
    ),
    bad(
      'priorityColumn on a date column',
      { tables: { tasks: { row: priorityColumn('due') } } },
      'priorityColumn(due) needs a column of type number or integer, but "tasks.due" is date',
    ),
    bad(
      'additive on a string column',
      { tables: { counts: { columns: { text: additive() } } } },
      'resolvers.tables.counts.columns.text: additive needs a column of type number or integer, but "counts.text" is string',
    ),
    bad(
      'average on a date column',
      { tables: { counts: { columns: { seen: average() } } } },
      'average needs a column of type number or integer, but "counts.seen" is date',
    ),
    bad(
      'mergeText on a number column',
      { tables: { counts: { columns: { price: mergeText() } } } },
      'mergeText needs a column of type string, but "counts.price" is number',
    ),
  ])('$name is refused: $message', ({ config, message }) => {
    expect(() => createResolverSet(schema, config as ResolverConfig)).toThrow(message);
  });

  it('a valid configuration using every kind of option is accepted', () => {
    const set = createResolverSet(schema, {
      default: serverWins(),
      tables: {
        tasks: { row: laterWins('due'), deletes: 'win' },
        counts: {
          row: maximum('seen'),
          deletes: 'lose',
          columns: { qty: additive(), price: average(), text: mergeText(), label: laterWins('seen') },
        },
      },
    });
    expect(set.forRow('tasks').name).toBe('laterWins(due)');
    expect(set.forDeleteConflict('tasks').name).toBe('deletes:win');
    expect(set.forColumn('counts', 'label').name).toBe('laterWins(seen)');
    expect(set.forColumn('counts', 'seen').name).toBe('maximum(seen)');
    expect(set.forRow('audit').name).toBe('serverWins');
    expect(set.forDeleteConflict('audit').name).toBe('serverWins');
  });

  it('additive as a row resolver is not type-checked at startup: non-numbers are refused per conflict', () => {
    expect(() => createResolverSet(schema, { tables: { tasks: { row: additive() } } })).not.toThrow();
  });

  it('createSyncServer refuses to start with a bad configuration', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    try {
      expect(() =>
        createSyncServer({ schema, store, resolvers: { tables: { tasks: { row: maximum('title') } } } }),
      ).toThrow(/maximum\(title\) needs a column of type number or integer or date, but "tasks.title" is string/);
    } finally {
      await store.close();
    }
  });

  it('a direction the schema does not know is refused when the schema is defined', () => {
    expect(() => defineSchema({ version: 1, tables: { t: { columns: {}, direction: 'sideways' as never } } })).toThrow(
      `table "t": direction must be one of bidirectional, upload-only, download-only`,
    );
  });
});

describe('table direction', () => {
  /** A row written by the server itself, as a download-only table's rows are. */
  async function serverWrite(server: TestServer, table: string, rowguid: string, values: RowValues) {
    return server.store.transaction(async (tx) => {
      const generation = await tx.allocateGenerations(1);
      await tx.writeRows([{ table, rowguid, values, deleted: false, generation, writer: 'server', priority: 100 }]);
      return generation;
    });
  }

  it('download-only: every upload is rejected, logged as a failed change, and answered with the row as it stands', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const generation = await serverWrite(server, 'rates', 'eur', { amount: 1.08 });
    const pulled = await server.pull(a, 0);
    expect(pulled.changes).toEqual([
      { table: 'rates', rowguid: 'eur', generation, deleted: false, values: { amount: 1.08 } },
    ]);
    const rowsBefore = (server.snapshot() as { rows: unknown }).rows;

    const pushed = await server.push(a, [
      upsert('rates', 'eur', { amount: 2 }, { gen: 1, base: generation }),
      upsert('rates', 'usd', { amount: 1 }, { gen: 2 }),
      remove('rates', 'chf', { gen: 3, base: 0 }),
    ]);
    expect(pushed.acknowledged).toBe(3);
    const reason = 'table "rates" is download-only: the server refuses uploads to it';
    expect(pushed.results).toEqual([
      expect.objectContaining({
        rowguid: 'eur',
        outcome: 'rejected',
        deleted: false,
        values: { amount: 1.08 },
        generation,
        reason,
      }),
      expect.objectContaining({ rowguid: 'usd', outcome: 'rejected', deleted: true, values: null, reason }),
      expect.objectContaining({ rowguid: 'chf', outcome: 'rejected', deleted: true, values: null, reason }),
    ]);
    expect((server.snapshot() as { rows: unknown }).rows).toEqual(rowsBefore);
    const { conflicts } = await server.conflicts();
    expect(conflicts).toHaveLength(3);
    expect(conflicts[0]).toMatchObject({
      type: 'failed-change',
      resolver: 'download-only',
      status: 'resolved',
      rowguid: 'eur',
      winner: 'server',
      loser: a,
      winningValues: { amount: 1.08 },
      losingValues: { amount: 2 },
      reason,
    });
    expect(pushed.results.map((result) => result.conflictId)).toEqual(conflicts.map((entry) => entry.id));
  });

  it('upload-only: uploads are accepted and kept, and pulls never return the table, page by page', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const changes = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? upsert('tasks', `t${i}`, { title: `task ${i}` }, { gen: i + 1 })
        : upsert('audit', `e${i}`, { message: `event ${i}` }, { gen: i + 1 }),
    );
    // One push per change, so pages of two rows hold whole transactions.
    for (const change of changes) {
      const pushed = await server.push(a, [change]);
      expect(pushed.results.every((result) => result.outcome === 'applied')).toBe(true);
    }

    const seen: string[] = [];
    let cursor = 0;
    for (let more = true; more;) {
      const page = await server.pull(b, cursor, 2);
      expect(page.changes.length).toBeLessThanOrEqual(2);
      seen.push(...page.changes.map((change) => `${change.table}/${change.rowguid}`));
      cursor = page.cursor;
      more = page.more;
    }
    expect(seen).toEqual(['tasks/t0', 'tasks/t3', 'tasks/t6', 'tasks/t9']);
    expect(cursor).toBe(12);
    const kept = (await server.store.changesSince({ after: 0, limit: 100 })).rows.filter(
      (row) => row.table === 'audit',
    );
    expect(kept).toHaveLength(8);
  });

  it('upload-only: a delete is accepted and not sent down either', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const [created] = (await server.push(a, [upsert('audit', 'e1', { message: 'x' }, { gen: 1 })])).results;
    const deleted = await server.push(a, [remove('audit', 'e1', { gen: 2, base: created!.generation })]);
    expect(deleted.results[0]).toMatchObject({ outcome: 'applied', deleted: true });
    expect(await server.pull(b, 0)).toMatchObject({ changes: [], cursor: 2, more: false });
  });
});
