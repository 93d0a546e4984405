import type {
  ConflictInput,
  ConflictType,
  ConflictVersion,
  FromReplicaChange,
  Resolution,
  Resolver,
  RowValues,
  TableDef,
} from '@concord/shared';
import { pickColumns, sameValue } from '@concord/shared';
import type { ResolverSet } from '../resolvers/resolver-set';
import type { ColumnVersion, StoredRow } from '../storage/store';
import { decide } from './decide';
import { refuseChange } from './refuse-change';

export interface MergeReplica {
  id: string;
  priority: number;
}

export interface MergeContext {
  table: TableDef;
  resolvers: ResolverSet;
  replica: MergeReplica;
}

/** A row to write; its generation is assigned when the batch commits. */
export interface RowWrite {
  values: RowValues;
  deleted: boolean;
  priority: number;
  /** Columns this write set, with the priority each now carries (column tracking keeps them). */
  touched: Map<string, number>;
}

/** A conflict as decided by the engine; id, generation and time are added at commit. */
export interface ConflictDraft {
  columns: string[];
  type: ConflictType;
  resolver: string;
  status: 'resolved' | 'open';
  winner: string | null;
  loser: string | null;
  winningValues: RowValues | null;
  losingValues: RowValues | null;
  reason: string;
}

export interface MergeOutcome {
  outcome: 'applied' | 'merged' | 'conflict' | 'rejected';
  /** Absent when the stored row stands as it is. */
  write?: RowWrite;
  conflicts: ConflictDraft[];
  reason?: string;
}

const UNTOUCHED: ColumnVersion = { generation: 0, writer: '', priority: 0 };

/**
 * Merges one uploaded change into the stored row. Pure and deterministic: the same stored
 * row and change always give the same outcome. A replica never conflicts with itself: only
 * versions written after the change's base generation by *another* replica count. Values equal
 * to what the live row already holds change nothing: they neither conflict nor write, so a
 * replica that uploads rows the server already has (reinitializing) logs no conflict for them.
 * A `replace` (a row deleted and written again before upload) is compared like a delete and
 * stored as exactly its values.
 */
export function mergeChange(ctx: MergeContext, stored: StoredRow | undefined, change: FromReplicaChange): MergeOutcome {
  const { replica } = ctx;
  const deletes = change.op === 'delete';
  const replaces = change.replace === true && !deletes;
  const sent = deletes ? {} : (change.values ?? {});
  const live = stored && !stored.deleted ? stored.values : undefined;
  // A replace also changes the columns it leaves out: they go from the old row's values to none.
  const changed = live ? differing(replaces ? { ...nulls(live), ...sent } : sent, live) : sent;
  const touched = touch(Object.keys(changed), replica.priority);
  if (ctx.table.direction === 'download-only') {
    const reason = `table "${ctx.table.name}" is download-only: the server refuses uploads to it`;
    return refuseChange(replica.id, stored, change, 'download-only', reason);
  }
  if (!stored) {
    return {
      outcome: 'applied',
      write: { values: changed, deleted: deletes, priority: replica.priority, touched },
      conflicts: [],
    };
  }
  if (stored.deleted && deletes) return { outcome: 'applied', conflicts: [] };
  if (!deletes && live && Object.keys(changed).length === 0) {
    // Nothing to write; but a version the uploader has not seen may hold other columns it lacks,
    // so then the answer brings the row (`merged` carries the values; `applied` does not).
    return { outcome: stored.generation > change.baseGeneration ? 'merged' : 'applied', conflicts: [] };
  }
  const newer = (version: { generation: number }) => version.generation > change.baseGeneration;
  // The uploader's own newer version is foreign too where the change's base values show it was
  // not seen: one written on its behalf by a merge or a resolution holds other replicas' values.
  // An insert (base 0) has seen no value; otherwise a column without a base value tells nothing.
  const unseen = (columns: readonly string[]) =>
    !stored.deleted &&
    columns.some((column) =>
      change.base && Object.hasOwn(change.base, column)
        ? !sameValue(stored.values[column], change.base[column])
        : change.baseGeneration === 0 && !sameValue(stored.values[column], null),
    );
  const foreign = (version: { generation: number; writer: string }, columns: readonly string[]) =>
    change.blind === true || (newer(version) && (version.writer !== replica.id || unseen(columns)));
  const compared =
    deletes || replaces
      ? [...new Set([...Object.keys(stored.values), ...Object.keys(change.base ?? {})])]
      : Object.keys(changed);
  const rowMoved =
    foreign(stored, compared) ||
    Object.entries(stored.columns ?? {}).some(([column, version]) =>
      foreign(version, compared.includes(column) ? [column] : []),
    );
  // An upsert onto a tombstone its writer has seen, or an insert (base 0), creates the row anew:
  // the deleted row's columns must not come back. Only an update that missed the delete builds on them.
  const recreated = stored.deleted && ((change.baseGeneration === 0 && !change.blind) || !foreign(stored, []));
  const client: ConflictVersion = {
    values: deletes ? null : recreated || replaces ? sent : { ...stored.values, ...changed },
    replicaId: replica.id,
    priority: replica.priority,
  };
  const clientWrite: RowWrite = {
    values: client.values ?? stored.values,
    deleted: deletes,
    priority: replica.priority,
    touched,
  };
  if (ctx.table.tracking === 'column' && !deletes && !replaces && !stored.deleted) {
    return mergeColumns(ctx, stored, change, changed, client, foreign, rowMoved);
  }
  if (!rowMoved) return { outcome: 'applied', write: clientWrite, conflicts: [] };

  const type = conflictType(stored, change);
  const resolver =
    type === 'update-delete' || type === 'delete-update'
      ? ctx.resolvers.forDeleteConflict(ctx.table.name)
      : ctx.resolvers.forRow(ctx.table.name);
  const input: ConflictInput = {
    table: ctx.table.name,
    type,
    columns: Object.keys(changed),
    base: change.base ?? {},
    server: { values: stored.deleted ? null : stored.values, replicaId: stored.writer, priority: stored.priority },
    client,
    columnTypes: ctx.table.columns,
  };
  const resolution = decide(resolver, input, ctx.table, ctx.table.columnNames);
  const conflict = draft(resolver, input, resolution);
  switch (resolution.kind) {
    case 'server':
      return { outcome: 'conflict', conflicts: [conflict] };
    case 'client':
      return { outcome: 'conflict', write: clientWrite, conflicts: [conflict] };
    case 'merge': {
      const priority = Math.max(stored.priority, replica.priority);
      const values = { ...client.values, ...resolution.values };
      return {
        outcome: 'conflict',
        write: { values, deleted: false, priority, touched: touch(Object.keys(values), priority) },
        conflicts: [conflict],
      };
    }
    case 'reject':
      return { outcome: 'rejected', conflicts: [conflict], reason: resolution.reason };
  }
}

function mergeColumns(
  ctx: MergeContext,
  stored: StoredRow,
  change: FromReplicaChange,
  changed: RowValues,
  client: ConflictVersion,
  foreign: (version: ColumnVersion, columns: readonly string[]) => boolean,
  rowMoved: boolean,
): MergeOutcome {
  const { replica, table } = ctx;
  const versionOf = (column: string) => stored.columns?.[column] ?? UNTOUCHED;
  const conflicting = Object.keys(changed).filter((column) => foreign(versionOf(column), [column]));
  const values: RowValues = { ...stored.values };
  const touched = new Map<string, number>();
  for (const column of Object.keys(changed)) {
    if (conflicting.includes(column)) continue;
    values[column] = changed[column]!;
    touched.set(column, replica.priority);
  }
  if (conflicting.length === 0) {
    return {
      outcome: rowMoved ? 'merged' : 'applied',
      write: { values, deleted: false, priority: replica.priority, touched },
      conflicts: [],
    };
  }

  const groups = new Map<Resolver, string[]>();
  for (const column of conflicting) {
    const resolver = ctx.resolvers.forColumn(table.name, column);
    groups.set(resolver, [...(groups.get(resolver) ?? []), column]);
  }
  const conflicts: ConflictDraft[] = [];
  for (const [resolver, columns] of groups) {
    // The group's server side is its newest column version.
    const newest = columns.map(versionOf).reduce((a, b) => (b.generation > a.generation ? b : a));
    const input: ConflictInput = {
      table: table.name,
      type: conflictType(stored, change),
      columns,
      base: pickColumns(change.base ?? {}, columns),
      server: { values: stored.values, replicaId: newest.writer, priority: newest.priority },
      client,
      columnTypes: table.columns,
    };
    const resolution = decide(resolver, input, table, columns);
    conflicts.push(draft(resolver, input, resolution));
    if (resolution.kind === 'reject') return { outcome: 'rejected', conflicts, reason: resolution.reason };
    for (const column of columns) {
      if (resolution.kind === 'client') {
        values[column] = changed[column]!;
        touched.set(column, replica.priority);
      } else if (resolution.kind === 'merge' && Object.hasOwn(resolution.values, column)) {
        values[column] = resolution.values[column]!;
        touched.set(column, Math.max(versionOf(column).priority, replica.priority));
      }
    }
  }
  const write = touched.size > 0 ? { values, deleted: false, priority: replica.priority, touched } : undefined;
  return write ? { outcome: 'conflict', write, conflicts } : { outcome: 'conflict', conflicts };
}

function conflictType(stored: StoredRow, change: FromReplicaChange): ConflictType {
  if (stored.deleted) return 'update-delete';
  if (change.op === 'delete') return 'delete-update';
  return change.baseGeneration === 0 ? 'insert-insert' : 'update-update';
}

function draft(resolver: Resolver, input: ConflictInput, resolution: Resolution): ConflictDraft {
  const { server, client, columns } = input;
  const side = (version: ConflictVersion) =>
    version.values && (columns.length > 0 ? pickColumns(version.values, columns) : version.values);
  const clientWon = resolution.kind === 'client';
  const merged = resolution.kind === 'merge';
  const [winner, loser] = clientWon ? [client, server] : [server, client];
  return {
    columns: [...columns],
    type: input.type,
    resolver: resolver.name,
    status: resolution.kind === 'server' && resolution.open ? 'open' : 'resolved',
    winner: merged ? null : winner.replicaId,
    loser: merged ? null : loser.replicaId,
    winningValues: merged ? resolution.values : side(winner),
    losingValues: merged ? side(client) : side(loser),
    reason: resolution.reason ?? describe(resolution.kind, resolver.name),
  };
}

function describe(kind: Resolution['kind'], resolver: string): string {
  if (kind === 'merge') return `merged by ${resolver}`;
  return `${resolver}: ${kind === 'client' ? 'the uploaded version' : 'the server version'} wins`;
}

/** Every column of `row`, set to null. */
function nulls(row: RowValues): RowValues {
  const none: RowValues = {};
  for (const column of Object.keys(row)) none[column] = null;
  return none;
}

/** The sent values that differ from the row's. */
function differing(sent: RowValues, row: RowValues): RowValues {
  const differ: RowValues = {};
  for (const column of Object.keys(sent)) if (!sameValue(sent[column], row[column])) differ[column] = sent[column]!;
  return differ;
}

function touch(columns: readonly string[], priority: number): Map<string, number> {
  return new Map(columns.map((column) => [column, priority]));
}
