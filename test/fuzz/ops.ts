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
  'token-expired',
  'wrong-subject',
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
 * `token-expired` is armed on the replica's token function instead, and fires on its ask after
 * `after` others (route `any`: an ask does not know its request). `arg` tunes some kinds: for
 * `late-copy` and `delayed`, how many later pushes of the replica are answered before the copy
 * arrives (0: just before its next request); for `poison`, which change of the push is spoiled
 * and how; for `wrong-subject`, which other replica's subject the request goes out with.
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
