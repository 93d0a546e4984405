import {
  ConcordError,
  describeName,
  rowguidProblem,
  tableOf,
  valuesIssue,
  type FromReplicaChange,
  type Schema,
} from '@concord/shared';

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

/**
 * Why the server refuses what one change holds, or undefined: the same rules the replica applies
 * to a local write — a known table, a valid rowguid, known columns holding exact JSON of their
 * types, in `values` and `base`. A refused change stands alone; the rest of its push still applies.
 * `naming` says the table or rowguid was the problem: no row can ever have it.
 */
export function changeProblem(
  schema: Schema,
  change: FromReplicaChange,
): { reason: string; naming: boolean } | undefined {
  const table = tableOf(schema, change.table);
  if (!table) return { reason: `unknown table "${describeName(change.table)}"`, naming: true };
  const rowguid = rowguidProblem(change.rowguid);
  if (rowguid) return { reason: rowguid, naming: true };
  const issue = valuesIssue(table, change.values ?? {}) ?? valuesIssue(table, change.base ?? {});
  return issue && { reason: issue.message, naming: false };
}
