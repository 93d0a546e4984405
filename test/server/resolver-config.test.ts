import { describe, expect, it } from 'vitest';
import { defineSchema } from '@concord/shared';
import {
  additive,
  average,
  createSqliteStore,
  createSyncServer,
  earlierWins,
  laterWins,
  maximum,
  mergeText,
  minimum,
  priorityColumn,
  serverWins,
  type ResolverConfig,
} from '@concord/server';
import { createResolverSet } from '../../server/src/resolvers/resolver-set';
import { schema } from './resolver-support';

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
