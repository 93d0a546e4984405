import { describeName, pickColumns, type FromReplicaChange } from '@concord/shared';
import type { StoredRow } from '../storage/store';
import type { ConflictDraft, MergeOutcome } from './merge-change';

/**
 * A change the server will not apply, as an outcome: nothing is written, the refusal is logged as
 * a `failed-change` conflict with its reason (the uploaded values kept as the losing version), and
 * the uploader is answered with the row as the server holds it, so its copy is corrected.
 * `resolver` names what refused it (`download-only`, `schema`).
 */
export function refuseChange(
  replicaId: string,
  stored: StoredRow | undefined,
  change: FromReplicaChange,
  resolver: string,
  reason: string,
): MergeOutcome {
  const columns = Object.keys(change.values ?? {}).map(describeName);
  const live = stored && !stored.deleted ? stored.values : null;
  const conflict: ConflictDraft = {
    columns,
    type: 'failed-change',
    resolver,
    status: 'resolved',
    winner: stored?.writer ?? null,
    loser: replicaId,
    winningValues: live && columns.length > 0 ? pickColumns(live, columns) : live,
    losingValues: change.op === 'delete' ? null : (change.values ?? {}),
    reason,
  };
  return { outcome: 'rejected', conflicts: [conflict], reason };
}
