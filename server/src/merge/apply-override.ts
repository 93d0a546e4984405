import {
  ConcordError,
  checkValues,
  rowguidProblem,
  tableOf,
  type ConflictEntry,
  type FromReplicaResolveConflict,
  type RowValues,
  type Schema,
} from '@concord/shared';
import type { Identity } from '../auth/identity';
import { sees, type Partitions } from '../partitions/create-partitions';
import type { PermissionCheck } from '../permissions/permission-check';
import { rowKeyString, type StoredRow, type StoreTransaction } from '../storage/store';

export interface OverrideEnvironment {
  schema: Schema;
  now: () => Date;
  /** Why the deciding identity may not write the decided row, if it may not. */
  refusalOf: PermissionCheck;
  partitions: Partitions;
  /** Whether an identity reviews every conflict, outside its own partition too. */
  reviews: (identity: Identity | undefined) => boolean;
}

export interface OverrideResult {
  /** The entry as it now stands: `overridden` (loser or values) or `resolved` (winner), with who and when. */
  conflict: ConflictEntry;
  /** The server generation of the decided version. */
  generation: number;
}

/** Writes made by a person through the server: every replica downloads them, and they outrank every replica. */
const SERVER = { writer: 'server', priority: 100 } as const;

/**
 * Settles a logged conflict by hand, inside one store transaction. The chosen version is written
 * as a new server change (a new generation, writer `server`, priority 100) so it replicates to
 * every replica, including those that diverged: `loser` lays the losing values over the row as
 * it stands now (a losing delete makes a tombstone); `winner` re-applies the winning values;
 * `{ values }` lays hand-edited values (checked like an upload) over the row. For column-tracked
 * tables the written columns get new column versions. The decision applies even when others
 * have changed the row since (a person decided), and an entry may be settled again: the later
 * decision wins. `winner` on a failed change confirms the refusal and writes nothing. Unknown
 * ids are `not_found`, an entry whose row could never be stored is `invalid_value`, a decided
 * row the deciding identity's permissions forbid is `forbidden`, and a refused request writes
 * nothing. With an identity, the decision is recorded under its subject, whatever `by` says.
 */
export async function applyOverride(
  tx: StoreTransaction,
  env: OverrideEnvironment,
  id: string,
  request: FromReplicaResolveConflict,
  identity: Identity | undefined,
): Promise<OverrideResult> {
  const entry = await tx.getConflict(id);
  if (!entry) throw new ConcordError('not_found', `no conflict with id "${id}"`, { id });
  const { choice } = request;
  const settled = (status: ConflictEntry['status']): ConflictEntry => ({
    ...entry,
    status,
    resolvedBy: identity?.subject ?? request.by ?? null,
    resolvedAt: env.now().toISOString(),
  });
  const table = tableOf(env.schema, entry.table);
  // A change refused for its table or rowguid is logged under a printable form of them, which is not its name.
  const unnameable = !table || rowguidProblem(entry.rowguid) !== undefined || entry.resolver === 'name';
  const current = unnameable ? undefined : (await tx.getRows([entry])).get(rowKeyString(entry.table, entry.rowguid));
  // An entry the caller may not list is one it cannot settle, or learn of.
  const view = env.reviews(identity) ? undefined : env.partitions.viewOf(identity);
  const uploader = view && (await tx.getReplica(entry.replicaId))?.subject;
  if (!(current ? sees(view, current) : !view) && !(identity && uploader === identity.subject)) {
    throw new ConcordError('not_found', `no conflict with id "${id}"`, { id });
  }
  if (choice === 'winner' && entry.type === 'failed-change') {
    // Confirming a refusal writes nothing: the row stays as it now stands, whoever wrote it since.
    const conflict = settled('resolved');
    await tx.updateConflict(conflict);
    // Of a row outside the decider's partition, not even its generation is shown.
    return { conflict, generation: current && sees(view, current) ? current.generation : 0 };
  }
  if (!table) {
    throw new ConcordError('unknown_table', `conflict "${id}" concerns table "${entry.table}", which the schema lacks`);
  }
  if (unnameable) {
    throw new ConcordError(
      'invalid_value',
      `conflict "${id}" was refused for its rowguid, which no row can have: it can only be confirmed (winner)`,
    );
  }
  const picked: RowValues | null =
    choice === 'loser' ? entry.losingValues : choice === 'winner' ? entry.winningValues : choice.values;
  // A CRDT column's text follows its document, which only edits change: a decision leaves it be.
  const chosen =
    picked && Object.fromEntries(Object.entries(picked).filter(([column]) => !table.crdt.includes(column)));
  if (typeof choice === 'object' && Object.keys(choice.values).length === 0) {
    throw new ConcordError('bad_request', 'choice.values must set at least one column');
  }
  checkValues(table, chosen ?? undefined, typeof choice === 'object' ? 'choice.values' : `the ${choice}'s values`);

  // A tombstone keeps the row's last values, as every tombstone does.
  const written = { values: { ...current?.values, ...chosen }, deleted: chosen === null };
  const refusal = env.refusalOf(entry.table, current, written, identity);
  if (refusal) throw new ConcordError('forbidden', refusal);
  const generation = await tx.allocateGenerations(1);
  const row: StoredRow = { table: entry.table, rowguid: entry.rowguid, ...written, generation, ...SERVER };
  if (current?.crdt) row.crdt = current.crdt;
  if (table.tracking === 'column') {
    row.columns = { ...current?.columns };
    for (const column of Object.keys(chosen ?? {})) row.columns[column] = { generation, ...SERVER };
  }
  await env.partitions.stamp(tx, [row], new Map());
  // A decision writes as a push would: only a row the decider sees, and only into its partition.
  if (current && !sees(view, current)) {
    throw new ConcordError('forbidden', `conflict "${id}" concerns a row outside the partition of the one deciding`);
  }
  if (!env.partitions.allows(view, current, row)) {
    throw new ConcordError('forbidden', `the decided row would be outside the partition of the one deciding`);
  }
  await tx.writeRows([row]);
  await env.partitions.realign(tx, [{ row, before: current }]);

  const conflict = settled(choice === 'winner' ? 'resolved' : 'overridden');
  await tx.updateConflict(conflict);
  return { conflict, generation };
}
