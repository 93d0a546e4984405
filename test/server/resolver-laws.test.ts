import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnType, ConflictInput, JsonValue, Resolver, RowValues } from '@concord/shared';
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

/** The laws every built-in resolver must keep, checked over generated conflicts. */

const columnTypes: Record<string, ColumnType> = {
  title: 'string',
  qty: 'integer',
  price: 'number',
  due: 'date',
  done: 'boolean',
  meta: 'json',
};
const columns = Object.keys(columnTypes);

const builtins: Resolver[] = [
  priority(),
  serverWins(),
  clientWins(),
  manual(),
  laterWins('due'),
  earlierWins('due'),
  maximum('price'),
  minimum('qty'),
  priorityColumn('qty'),
  additive(),
  average(),
  mergeText(),
  mergeText({ delimiter: ' | ' }),
];

/** Any value, of the column's type or not: a resolver must refuse what it cannot use, never throw. */
const anyValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.boolean(),
  fc
    .date({ min: new Date('2000-01-01'), max: new Date('2040-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constant('not a date'),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

const rowValues: fc.Arbitrary<RowValues> = fc.dictionary(fc.constantFrom(...columns), anyValue, { maxKeys: 6 });

const version = fc.record({
  values: fc.option(rowValues, { nil: null }),
  replicaId: fc.constantFrom('replica-a', 'replica-b', 'server'),
  priority: fc.integer({ min: 0, max: 100 }),
});

const conflictInput: fc.Arbitrary<ConflictInput> = fc
  .record({
    type: fc.constantFrom('update-update', 'update-delete', 'delete-update', 'insert-insert'),
    columns: fc.subarray(columns, { minLength: 1 }),
    base: rowValues,
    server: version,
    client: version,
  } as const)
  .map((input) => ({ table: 'tasks', columnTypes, ...input }));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe.each(builtins.map((resolver) => [resolver.name, resolver] as const))(
  '%s keeps the resolver laws',
  (_, resolver) => {
    it('is total, pure and deterministic, and answers only the table’s columns', () => {
      fc.assert(
        fc.property(conflictInput, (input) => {
          const copy = structuredClone(input);
          const first = resolver.resolve(deepFreeze(input));
          expect(input).toEqual(copy);
          expect(resolver.resolve(structuredClone(copy))).toEqual(first);
          expect(['server', 'client', 'merge', 'reject']).toContain(first.kind);
          if (first.kind === 'merge') {
            for (const column of Object.keys(first.values)) expect(columns).toContain(column);
          }
          if (first.kind === 'reject') expect(first.reason).toMatch(new RegExp(`^${escape(resolver.name)}`));
        }),
        { numRuns: 300 },
      );
    });
  },
);

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
