import type { ConflictInput, ConflictType, ConflictVersion, FromReplicaChange, RowValues } from '@concord/shared';
import type { StoredRow } from '../storage/store';
import { conflictDraft } from './conflict-draft';
import { decideResolution } from './decide-resolution';
import type { MergeContext, MergeOutcome, RowWrite } from './merge-outcome';

/**
 * Decides a whole-row conflict with the table's row resolver, or its delete rule when one side
 * deleted the row. The server version stands unless the resolver picks the upload (`clientWrite`
 * is written) or merges; merged values lay over the uploaded row and carry the higher priority.
 */
export function mergeRow(
  ctx: MergeContext,
  stored: StoredRow,
  change: FromReplicaChange,
  changed: RowValues,
  client: ConflictVersion,
  clientWrite: RowWrite,
  type: ConflictType,
): MergeOutcome {
  const { replica, table } = ctx;
  const resolver =
    type === 'update-delete' || type === 'delete-update'
      ? ctx.resolvers.forDeleteConflict(table.name)
      : ctx.resolvers.forRow(table.name);
  const input: ConflictInput = {
    table: table.name,
    type,
    columns: Object.keys(changed),
    base: change.base ?? {},
    server: { values: stored.deleted ? null : stored.values, replicaId: stored.writer, priority: stored.priority },
    client,
    columnTypes: table.columns,
  };
  const resolution = decideResolution(resolver, input, table, table.columnNames);
  const conflict = conflictDraft(resolver, input, resolution);
  switch (resolution.kind) {
    case 'server':
      return { outcome: 'conflict', conflicts: [conflict] };
    case 'client':
      return { outcome: 'conflict', write: clientWrite, conflicts: [conflict] };
    case 'merge': {
      const priority = Math.max(stored.priority, replica.priority);
      const values = { ...client.values, ...resolution.values };
      const touched = new Map(Object.keys(values).map((column) => [column, priority]));
      return { outcome: 'conflict', write: { values, deleted: false, priority, touched }, conflicts: [conflict] };
    }
    case 'reject':
      return { outcome: 'rejected', conflicts: [conflict], reason: resolution.reason };
  }
}
