import fc from 'fast-check';
import { describeOp } from './describe-op';
import { faultArbitrary, type CaseOptions } from './fault-arbitrary';
import {
  COLUMNS,
  ROW_POOL,
  type FuzzCase,
  type FuzzConfig,
  type Op,
  type ResolverName,
  type Size,
  type TableName,
  type Write,
} from './ops';

/** Makes fast-check print an op as its one-line description in counterexamples. */
const printable = <T extends object>(value: T, describe: (value: T) => string): T =>
  Object.defineProperty(value, fc.toStringMethod, { value: () => describe(value), enumerable: false });

const replica = fc.nat(3);
const row = fc.nat(ROW_POOL - 1);
const salt = fc.nat(99);
const columnsOf = (t: TableName) => fc.subarray([...COLUMNS[t]], { minLength: 1 });
const size = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Size>('small') },
  { weight: 4, arbitrary: fc.constant<Size>('large') },
  { weight: 3, arbitrary: fc.constant<Size>('huge') },
);

const writeOn = (t: TableName): fc.Arbitrary<Write> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('update' as const),
        table: fc.constant(t),
        row,
        columns: columnsOf(t),
        salt,
        size,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('insert' as const),
        table: fc.constant(t),
        row,
        columns: columnsOf(t),
        salt,
        size,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        table: fc.constant(t),
        row,
        columns: columnsOf(t),
        salt,
        size,
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), table: fc.constant(t), row }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('bulk' as const),
        table: fc.constant(t),
        rows: fc.uniqueArray(row, { minLength: 2, maxLength: 4 }),
        columns: columnsOf(t),
        salt,
        size,
      }),
    },
  );
const write = fc.oneof(writeOn('notes'), writeOn('stock'));
export const opArbitrary = (options: CaseOptions): fc.Arbitrary<Op> => {
  const fault = faultArbitrary(options);
  return fc
    .oneof(
      {
        weight: 12,
        arbitrary: fc.record({
          kind: fc.constant('tx' as const),
          replica,
          writes: fc.array(write, { minLength: 1, maxLength: 1 }),
        }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('tx' as const),
          replica,
          writes: fc.array(write, { minLength: 2, maxLength: 4 }),
        }),
      },
      {
        weight: 7,
        arbitrary: fc.record({
          kind: fc.constant('sync' as const),
          replicas: fc.uniqueArray(replica, { minLength: 1, maxLength: 4 }),
          concurrent: fc.boolean(),
          twice: fc.boolean(),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('write-during-sync' as const),
          replica,
          route: fc.constantFrom('push' as const, 'pull' as const),
          writes: fc.array(write, { minLength: 1, maxLength: 2 }),
        }),
      },
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('fault' as const), replica, fault }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('offline' as const, 'online' as const), replica }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), replica }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
      ...(options.restore
        ? [
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('backup' as const) }) },
            { weight: 2, arbitrary: fc.record({ kind: fc.constant('restore' as const) }) },
          ]
        : []),
    )
    .map((op) => printable(op, describeOp));
};

export const configArbitrary: fc.Arbitrary<FuzzConfig> = fc.record({
  replicas: fc.constantFrom(3, 4),
  resolver: fc.constantFrom<ResolverName>('priority', 'client-wins', 'max-merge'),
  ranked: fc.boolean(),
  maxUploadChanges: fc.constantFrom(1, 2, 3, 1000),
  maxDownloadChanges: fc.constantFrom(1, 2, 3, 1000),
  maxBodyBytes: fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.constantFrom(16 * 1024, 32 * 1024, 64 * 1024) },
  ),
});

/**
 * A whole fuzz case: a configuration and up to `maxOps` operations. Lengths are drawn across the
 * whole range (`size: 'max'`), and a failure shrinks down to a single op if that suffices.
 */
export function caseArbitrary(maxOps: number, options: CaseOptions = { restore: true }): fc.Arbitrary<FuzzCase> {
  return fc.record({
    config: configArbitrary,
    ops: fc.array(opArbitrary(options), { minLength: 1, maxLength: maxOps, size: 'max' }),
  });
}
