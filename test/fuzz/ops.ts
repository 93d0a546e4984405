import fc from 'fast-check';

/** The two tables of the fuzz schema: `notes` is row-tracked, `stock` column-tracked. */
export const TABLES = ['notes', 'stock'] as const;
export type TableName = (typeof TABLES)[number];
export const COLUMNS: Record<TableName, readonly string[]> = {
  notes: ['title', 'body', 'pinned', 'rank'],
  stock: ['sku', 'qty', 'price', 'seen', 'extra'],
};
/** Rows come from a small pool per table, so that replicas collide often. */
export const ROW_POOL = 4;
export const rowguidOf = (table: TableName, row: number) => `${table === 'notes' ? 'n' : 's'}${row}`;

/**
 * How long the strings a write puts into string columns are: `small` (a few characters), `large`
 * (several KB, at most a seventh of the run's body limit, so any change of them fits a push and
 * a transaction of several is split across pushes) or `huge` (more than the body limit: no push
 * can carry it, so the replica refuses the write, or keeps it pending if it did not know the
 * limit yet). Runs on the default 8 MiB limit write `huge` strings as `large` ones.
 */
export type Size = 'small' | 'large' | 'huge';
export const SIZES: readonly Size[] = ['small', 'large', 'huge'];

/**
 * One local write inside a transaction. `salt` varies the magnitude of the numbers written
 * (every value is also made unique by the harness), so that "max wins" is not "later wins".
 */
export type Write =
  | { kind: 'insert' | 'put' | 'update'; table: TableName; row: number; columns: string[]; salt: number; size: Size }
  | { kind: 'delete'; table: TableName; row: number }
  | { kind: 'bulk'; table: TableName; rows: number[]; columns: string[]; salt: number; size: Size };

export const FAULT_KINDS = [
  'drop-request',
  'drop-response',
  'duplicate',
  'error-500',
  'error-500-after',
  'hold',
  'fail-pull',
  'restart',
  'restart-after',
  'late-copy',
  'delayed',
  'poison',
  'restore',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * What the wire and the harness count besides faults: how late copies of pushes were answered
 * (`late:duplicate`, `late:gap`, `late:applied`, `late:unknown-replica`), spoiled changes the
 * server answered `rejected`, local writes refused as too large, rounds that ended with an
 * oversized change pending, heal edits that made one smaller, store backups and restores, and
 * the refusals that make a replica recover from a restored store (`refused:*`, answered to the
 * replica itself).
 */
export const EVENT_KINDS = [
  'offline',
  'reordered',
  'late:duplicate',
  'late:gap',
  'late:cursor',
  'late:applied',
  'late:unknown-replica',
  'poison:rejected',
  'write-refused',
  'oversized-pending',
  'oversized-healed',
  'backup',
  'restored',
  'refused:generation_gap',
  'refused:cursor_unknown',
  'refused:unknown_replica',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
export type Route = 'push' | 'pull' | 'replicas' | 'any';

/**
 * A fault armed on one replica's wire: it fires on the matching request after `after` have passed.
 * `arg` tunes some kinds: for `late-copy` and `delayed`, how many later pushes of the replica are
 * answered before the copy arrives (0: just before its next request); for `poison`, which change
 * of the push is spoiled and how.
 */
export interface FaultSpec {
  kind: FaultKind;
  route: Route;
  after: number;
  arg?: number;
}

export type Op =
  | { kind: 'tx'; replica: number; writes: Write[] }
  | { kind: 'sync'; replicas: number[]; concurrent: boolean; twice: boolean }
  | { kind: 'write-during-sync'; replica: number; route: 'push' | 'pull'; writes: Write[] }
  | { kind: 'offline' | 'online' | 'reopen'; replica: number }
  | { kind: 'fault'; replica: number; fault: FaultSpec }
  | { kind: 'restart' | 'backup' | 'restore' };

export type ResolverName = 'priority' | 'client-wins' | 'max-merge';

export interface FuzzConfig {
  replicas: number;
  resolver: ResolverName;
  /** Give replicas different priorities (by registration order) instead of all 0. */
  ranked: boolean;
  maxUploadChanges: number;
  maxDownloadChanges: number;
  /** The server's `limits.maxBodyBytes`; 0 leaves the default (8 MiB). */
  maxBodyBytes: number;
}

export interface FuzzCase {
  config: FuzzConfig;
  ops: Op[];
}

export function describeWrite(write: Write): string {
  switch (write.kind) {
    case 'delete':
      return `delete ${write.table}#${write.row}`;
    case 'bulk':
      return `bulkPut ${write.rows.map((row) => rowguidOf(write.table, row)).join(',')} {${write.columns}}~${write.salt}${sized(write.size)}`;
    case 'update':
      return `update ${write.table}#${write.row} {${write.columns}}~${write.salt}${sized(write.size)}`;
    default:
      return `${write.kind} ${rowguidOf(write.table, write.row)} {${write.columns}}~${write.salt}${sized(write.size)}`;
  }
}

const sized = (size: Size) => (size === 'small' ? '' : ` (${size} strings)`);

export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'tx':
      return `r${op.replica}: ${op.writes.map(describeWrite).join('; ')}`;
    case 'sync':
      return `sync ${op.replicas.map((r) => `r${r}`).join(op.concurrent ? '|' : ',')}${op.twice ? ' (twice)' : ''}`;
    case 'write-during-sync':
      return `r${op.replica}: sync, during its ${op.route}: ${op.writes.map(describeWrite).join('; ')}`;
    case 'fault':
      return `r${op.replica}: arm ${op.fault.kind}${op.fault.arg === undefined ? '' : `(${op.fault.arg})`} on ${op.fault.route} after ${op.fault.after}`;
    case 'restart':
      return 'restart server';
    case 'backup':
      return 'back up the server store';
    case 'restore':
      return 'restore the server store from its backup';
    default:
      return `r${op.replica}: ${op.kind}`;
  }
}

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

const route = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Route>('push') },
  { weight: 3, arbitrary: fc.constant<Route>('pull') },
  { weight: 2, arbitrary: fc.constant<Route>('any') },
  { weight: 1, arbitrary: fc.constant<Route>('replicas') },
);
/** What a fuzz case may do beyond the always-on ops and faults. */
export interface CaseOptions {
  /** Back up and restore the server's store (ops `backup` and `restore`, fault `restore`). */
  restore: boolean;
}

const faultArbitrary = ({ restore }: CaseOptions): fc.Arbitrary<FaultSpec> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constantFrom<FaultKind>('drop-request', 'drop-response', 'duplicate', 'error-500', 'error-500-after'),
        route,
        after: fc.nat(1),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constantFrom<FaultKind>('restart', 'restart-after'), route, after: fc.nat(1) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('hold'),
        route: fc.constantFrom<Route>('push', 'pull', 'any'),
        after: fc.nat(1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('fail-pull'),
        route: fc.constant<Route>('pull'),
        after: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constantFrom<FaultKind>('late-copy', 'delayed'),
        route: fc.constant<Route>('push'),
        after: fc.nat(1),
        arg: fc.nat(3),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('poison'),
        route: fc.constant<Route>('push'),
        after: fc.nat(1),
        arg: fc.nat(7),
      }),
    },
    ...(restore
      ? [{ weight: 2, arbitrary: fc.record({ kind: fc.constant<FaultKind>('restore'), route, after: fc.nat(1) }) }]
      : []),
  );

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
