import {
  pickColumns,
  type ConflictInput,
  type ConflictVersion,
  type FromReplicaChange,
  type Resolver,
  type RowValues,
} from '@concord/shared';
import type { ColumnVersion, StoredRow } from '../storage/store';
import { conflictDraft } from './conflict-draft';
import { decideResolution } from './decide-resolution';
import type { ConflictDetection } from './detect-conflict';
import type { ConflictDraft, MergeContext, MergeOutcome } from './merge-outcome';

const UNTOUCHED: ColumnVersion = { generation: 0, writer: '', priority: 0 };

/**
 * Merges an upsert into a live row of a column-tracked table column by column: a changed column
 * whose version the uploader had seen is written; the rest conflict, and are decided in groups,
 * one per resolver, each group's server side being its newest column version. A rejection by any
 * group rejects the whole change.
 */
export function mergeColumns(
  ctx: MergeContext,
  stored: StoredRow,
  change: FromReplicaChange,
  changed: RowValues,
  client: ConflictVersion,
  detection: ConflictDetection,
): MergeOutcome {
  const { replica, table } = ctx;
  const { foreign, rowMoved, type } = detection;
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
    const newest = columns.map(versionOf).reduce((a, b) => (b.generation > a.generation ? b : a));
    const input: ConflictInput = {
      table: table.name,
      type,
      columns,
      base: pickColumns(change.base ?? {}, columns),
      server: { values: stored.values, replicaId: newest.writer, priority: newest.priority },
      client,
      columnTypes: table.columns,
    };
    const resolution = decideResolution(resolver, input, table, columns);
    conflicts.push(conflictDraft(resolver, input, resolution));
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
