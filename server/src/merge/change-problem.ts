import {
  describeName,
  rowguidProblem,
  tableOf,
  valuesIssue,
  type FromReplicaChange,
  type Schema,
  type TableDef,
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
  if (issue) return { reason: issue.message, naming: false };
  const crdt = crdtProblem(table, change);
  return crdt === undefined ? undefined : { reason: crdt, naming: false };
}

/**
 * A CRDT column is edited only by Yjs updates (`crdt`), never by a value; and only a CRDT column
 * of the table takes them, from an upsert. (Whether each update merges is found by merging it.)
 */
function crdtProblem(table: TableDef, change: FromReplicaChange): string | undefined {
  const named = (values: object | undefined) => table.crdt.find((column) => values && Object.hasOwn(values, column));
  const valued = named(change.values) ?? named(change.base);
  if (valued) return `"${table.name}.${valued}" is a crdt column: its edits are sent as Yjs updates in \`crdt\``;
  const updated = Object.keys(change.crdt ?? {});
  if (updated.length > 0 && change.op === 'delete') return 'a delete carries no crdt updates';
  const unknown = updated.find((column) => !table.crdt.includes(column));
  return unknown === undefined ? undefined : `"${table.name}.${describeName(unknown)}" is not a crdt column`;
}
