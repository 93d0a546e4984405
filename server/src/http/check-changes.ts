import { ConcordError, describeName, type FromReplicaChange } from '@concord/shared';

/**
 * Checks the shape of a push as a whole before anything is written: a row named twice, or a
 * delete that carries values, is a malformed request and refuses the push. What a change holds
 * (its table, rowguid and values) is checked per change by `changeProblem`.
 */
export function checkChanges(changes: readonly FromReplicaChange[]): void {
  const seen = new Set<string>();
  changes.forEach((change, index) => {
    const where = `changes[${index}]`;
    const key = `${change.table}\u0000${change.rowguid}`;
    if (seen.has(key)) {
      throw new ConcordError(
        'bad_request',
        `${where}: row "${describeName(change.rowguid)}" appears twice in one push`,
        {
          index,
        },
      );
    }
    seen.add(key);
    if (change.op === 'delete' && (change.values !== undefined || change.replace)) {
      throw new ConcordError('bad_request', `${where}: a delete carries no values and replaces nothing`, { index });
    }
  });
}
