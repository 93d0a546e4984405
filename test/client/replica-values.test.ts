import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/test-world';
import { MAX_JSON_DEPTH, defineSchema, fitsColumn, type FromServerPull, type TableInput } from '@concord/shared';
import { createSqliteStore, createSyncServer, type ResolverConfig } from '@concord/server';
import { upsert } from '../support/test-server';
import { expectConverged } from '../support/test-replica';

const { start, server: current, replica } = useTestWorld();

class Money {
  constructor(readonly cents: number) {}
}
const nested = (depth: number): unknown => (depth === 0 ? 'deep' : [nested(depth - 1)]);
// eslint-disable-next-line no-sparse-arrays
const sparse = [1, , 3];

describe('a local write the server would refuse fails in the app, before it reaches the outbox', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a column named constructor', { id: 'r1', constructor: 'x' }, 'unknown_column'],
    ['a column named toString', { id: 'r1', toString: 'x' }, 'unknown_column'],
    [
      'an own column named __proto__',
      JSON.parse('{"id":"r1","__proto__":"x"}') as Record<string, unknown>,
      'unknown_column',
    ],
    ['NaN in a json column', { id: 'r1', extra: Number.NaN }, 'invalid_value'],
    ['Infinity in a number column', { id: 'r1', price: Number.POSITIVE_INFINITY }, 'invalid_value'],
    ['-0 in a number column, which JSON stores as 0', { id: 'r1', price: -0 }, 'invalid_value'],
    ['-0 in an integer column', { id: 'r1', qty: -0 }, 'invalid_value'],
    ['-0 inside a json value', { id: 'r1', extra: [0, -0] }, 'invalid_value'],
    ['-Infinity inside a json value', { id: 'r1', extra: { min: Number.NEGATIVE_INFINITY } }, 'invalid_value'],
    ['a Date in a json column', { id: 'r1', extra: new Date(0) }, 'invalid_value'],
    ['a Date in a date column', { id: 'r1', seen: new Date(0) }, 'invalid_value'],
    ['a Map in a json column', { id: 'r1', extra: new Map([['a', 1]]) }, 'invalid_value'],
    ['a class instance in a json column', { id: 'r1', extra: { price: new Money(5) } }, 'invalid_value'],
    ['an undefined array element', { id: 'r1', extra: [1, undefined] }, 'invalid_value'],
    ['an array with a hole', { id: 'r1', extra: sparse }, 'invalid_value'],
    ['a bigint in a json column', { id: 'r1', extra: 10n }, 'invalid_value'],
    [
      `a json value nested ${MAX_JSON_DEPTH + 1} deep`,
      { id: 'r1', extra: nested(MAX_JSON_DEPTH + 1) },
      'invalid_value',
    ],
    ['a lone surrogate in a string column', { id: 'r1', sku: 'a\ud800b' }, 'invalid_value'],
    ['a lone surrogate in a json key', { id: 'r1', extra: { '\udc00': 1 } }, 'invalid_value'],
    ['February 30th', { id: 'r1', seen: '2024-02-30' }, 'invalid_value'],
    ['the 13th month', { id: 'r1', seen: '2024-13-01' }, 'invalid_value'],
    ['a minute of 60', { id: 'r1', seen: '2024-01-01T10:60' }, 'invalid_value'],
    ['a rowguid with a lone surrogate', { id: 'r\udbff', qty: 1 }, 'invalid_value'],
    ['a rowguid of 129 characters', { id: 'r'.repeat(129), qty: 1 }, 'invalid_value'],
    ['an empty rowguid', { id: '', qty: 1 }, 'invalid_value'],
  ])('%s → %s, nothing written', async (_name, row, code) => {
    start();
    const a = await replica();
    await expect(a.db.table('stock').put(row)).rejects.toMatchObject({ code });
    expect(await a.db.table('stock').count()).toBe(0);
    expect(await a.db.table('_changes').count()).toBe(0);
  });

  it('values that are exact JSON are kept and reach another replica exactly', async () => {
    const server = start();
    const [a, b] = [await replica(), await replica()];
    const rows = [
      { id: 'r1', seen: '2024-02-29', extra: { list: [1, 'two', null, { three: true }], text: '😀 é' } },
      { id: 'r2', seen: '2024-01-01T10:20:30.123+05:30', extra: nested(MAX_JSON_DEPTH - 1), price: 1e21 },
      { id: 'r3', seen: '2000-02-29T23:59:59Z', sku: 'pair 😀 ok', extra: { absent: undefined, kept: 1 } },
    ];
    await a.db.table('stock').bulkPut(rows);
    await a.sync();
    await b.sync();
    await expectConverged(server, a, b);
    expect(await b.db.table('stock').get('r3')).toEqual({
      id: 'r3',
      seen: '2000-02-29T23:59:59Z',
      sku: 'pair 😀 ok',
      extra: { kept: 1 },
    });
  });
});

describe('a poison change in the outbox', () => {
  it('is rejected on its own: the changes queued with it sync, its row is corrected, and the refusal is logged', async () => {
    const server = start();
    // An older client whose checks let a bad value through: the push leaves with one change spoiled.
    const spoiling: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/push') && typeof init?.body === 'string') {
        const body = JSON.parse(init.body) as { changes: { rowguid: string; values?: Record<string, unknown> }[] };
        for (const change of body.changes) if (change.rowguid === 'bad') change.values = { qty: 'many' };
        init = { ...init, body: JSON.stringify(body) };
      }
      return current().app.request(input as string, init);
    };
    const a = await replica({ fetch: spoiling });
    const b = await replica();
    await a.db.table('stock').bulkPut([
      { id: 'before', qty: 1 },
      { id: 'bad', qty: 2 },
      { id: 'after', qty: 3 },
    ]);
    const report = await a.sync();
    expect(report).toMatchObject({ uploaded: 3, rejected: 1 });
    expect(a.status.pending).toBe(0);
    await b.sync();
    await expectConverged(server, a, b);
    expect((await a.db.table('stock').toArray()).map((row) => row.id).sort()).toEqual(['after', 'before']);
    const [entry] = await a.conflicts();
    expect(entry).toMatchObject({
      type: 'failed-change',
      resolver: 'schema',
      rowguid: 'bad',
      losingValues: { qty: 'many' },
    });
    expect(entry!.reason).toMatch(/stock.qty must be integer/);
  });
});

describe('exact JSON, one rule on both sides', () => {
  it('a json value the shared check accepts round-trips through JSON unchanged, and every value JSON gives back is accepted', () => {
    const sameAfterJson = (value: unknown) => {
      const text = JSON.stringify(value);
      return text !== undefined && JSON.stringify(JSON.parse(text)) === text && jsonEqual(JSON.parse(text), value);
    };
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withBigInt: true,
          withBoxedValues: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withUnicodeString: true,
        }),
        (value) => {
          if (fitsColumn('json', value)) expect(sameAfterJson(value)).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(
        fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown),
        (value) => {
          expect(fitsColumn('json', value)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('names every object has', () => {
  it.each([
    ['a table', { constructor: { columns: { a: 'string' } } }, /table name "constructor" is reserved/],
    ['a column', { t: { columns: { toString: 'string' } } }, /column "t.toString" is reserved/],
    ['a key', { t: { key: 'valueOf', columns: { a: 'string' } } }, /key "valueOf" is reserved/],
  ])('the schema refuses %s with such a name at startup', (_name, tables, message) => {
    expect(() => defineSchema({ version: 1, tables: tables as never })).toThrow(message);
  });

  it('a resolver configuration naming such a table or column is a startup error, not a prototype lookup', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    try {
      const schema = defineSchema({ version: 1, tables: { t: { columns: { a: 'number' }, tracking: 'column' } } });
      const tables = JSON.parse('{"__proto__":{"row":null},"toString":{}}') as ResolverConfig['tables'];
      expect(() => createSyncServer({ schema, store, resolvers: { tables } })).toThrow(/unknown table "__proto__"/);
      const columns = JSON.parse('{"constructor":null}') as Record<string, never>;
      expect(() => createSyncServer({ schema, store, resolvers: { tables: { t: { columns } } } })).toThrow(
        /unknown column "t.constructor"/,
      );
    } finally {
      await store.close();
    }
  });

  it('a download carrying a row of table "__proto__" or "constructor" is skipped, and the rest of the page applies', async () => {
    const server = start();
    const writer = (await server.register()).replicaId;
    await server.push(writer, [upsert('notes', 'n1', { title: 'real' }, { gen: 1 })]);
    // A server that did store such rows (an older version, or another implementation) must not break downloads.
    const poisoned: typeof fetch = async (input, init) => {
      const response = await current().app.request(input as string, init);
      if (!String(input).endsWith('/v1/pull')) return response;
      const page = (await response.json()) as FromServerPull;
      for (const table of ['__proto__', 'constructor', 'toString']) {
        page.changes.unshift({ table, rowguid: 'x', generation: 1, deleted: false, values: { title: 'poison' } });
      }
      return new Response(JSON.stringify(page), { status: response.status, headers: response.headers });
    };
    const a = await replica({ fetch: poisoned });
    await a.sync();
    expect(await a.db.table('notes').toArray()).toEqual([{ id: 'n1', title: 'real' }]);
    expect(a.status.error).toBeNull();
  });
});

/** Deep equality in JSON's terms (an object property holding undefined is absent), and 0 is not -0. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = (value: object) =>
    Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  const [ka, kb] = [keys(a), keys(b)];
  return (
    ka.length === kb.length &&
    ka.every((key) => jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

describe('crdt columns', () => {
  it('must be string columns of their table', () => {
    const json = { columns: { title: 'string', body: 'json' }, crdt: ['body'] } satisfies TableInput;
    expect(() => defineSchema({ version: 1, tables: { notes: json } })).toThrow(
      'table "notes": crdt column "body" must be one of its string columns',
    );
    const missing = { columns: { title: 'string' }, crdt: ['toString'] } satisfies TableInput;
    expect(() => defineSchema({ version: 1, tables: { notes: missing } })).toThrow(/crdt column "toString"/);
  });
});
