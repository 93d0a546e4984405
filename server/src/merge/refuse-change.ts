import { describeName, pickColumns, toWellFormed, type FromReplicaChange, type RowValues } from '@concord/shared';
import type { StoredRow } from '../storage/store';
import type { ConflictDraft, MergeOutcome } from './merge-outcome';

/**
 * A change the server will not apply, as an outcome: nothing is written, the refusal is logged as
 * a `failed-change` conflict with its reason (the uploaded values kept as the losing version), and
 * the uploader is answered with the row as the server holds it, so its copy is corrected.
 * `resolver` names what refused it (`download-only`, `schema`, `permission`).
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
    losingValues: change.op === 'delete' ? null : loggable(change.values ?? {}),
    reason,
  };
  return { outcome: 'rejected', conflicts: [conflict], reason };
}

/** The most bytes of refused values the log keeps; larger ones are left out of it. */
const MAX_LOGGED_BYTES = 64 * 1024;

/**
 * Refused values as the log can keep and show them: JSON, with every string and key made
 * well-formed; values too large or too deep to serialize are left out (null), so that a refused
 * change can never make its push fail or the log too large to list.
 */
function loggable(values: RowValues): RowValues | null {
  try {
    const text = JSON.stringify(values);
    if (text.length > MAX_LOGGED_BYTES) return null;
    return JSON.parse(text, (_key, value: unknown) => {
      if (typeof value === 'string') return toWellFormed(value);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([key, member]) => [toWellFormed(key), member]));
    }) as RowValues;
  } catch {
    return null; // nested too deep to serialize
  }
}
