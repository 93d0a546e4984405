import {
  describeName,
  rowguidProblem,
  tableOf,
  valuesIssue,
  type FromReplicaChange,
  type Schema,
} from '@concord/shared';

export interface ChangeProblem {
  reason: string;
  naming: boolean;
}

/**
 * Why the server refuses what one change holds, or undefined: the same rules the replica applies
 * to a local write — a known table, a valid rowguid, known columns holding exact JSON of their
 * types, in `values` and `base`. A refused change stands alone; the rest of its push still applies.
 * `naming` says the table or rowguid was the problem: no row can ever have it.
 */
export function changeProblem(schema: Schema, change: FromReplicaChange): ChangeProblem | undefined {
  const table = tableOf(schema, change.table);
  if (!table) return { reason: `unknown table "${describeName(change.table)}"`, naming: true };
  const rowguid = rowguidProblem(change.rowguid);
  if (rowguid) return { reason: rowguid, naming: true };
  const issue = valuesIssue(table, change.values ?? {}) ?? valuesIssue(table, change.base ?? {});
  return issue && { reason: issue.message, naming: false };
}
