import type { ConflictVersion, FromReplicaChange } from '@concord/shared';
import type { StoredRow } from '../storage/store';
import { changedValues } from './changed-values';
import { detectConflict } from './detect-conflict';
import { mergeColumns } from './merge-columns';
import { mergeRow } from './merge-row';
import type { MergeContext, MergeOutcome, RowWrite } from './merge-outcome';
import { refuseChange } from './refuse-change';

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
  const changed = changedValues(sent, live, replaces);
  const touched = new Map(Object.keys(changed).map((column) => [column, replica.priority]));
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
  const detection = detectConflict(stored, change, replica.id, changed);
  // An upsert onto a tombstone its writer has seen, or an insert (base 0), creates the row anew:
  // the deleted row's columns must not come back. Only an update that missed the delete builds on them.
  const recreated =
    stored.deleted && ((change.baseGeneration === 0 && !change.blind) || !detection.foreign(stored, []));
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
    return mergeColumns(ctx, stored, change, changed, client, detection);
  }
  if (!detection.rowMoved) return { outcome: 'applied', write: clientWrite, conflicts: [] };
  return mergeRow(ctx, stored, change, changed, client, clientWrite, detection.type);
}
