import type {
  ConflictEntry,
  FromReplicaChange,
  FromReplicaPush,
  FromServerChangeResult,
  Schema,
} from '@concord/shared';
import { ConcordError, describeName, tableOf } from '@concord/shared';
import type { Identity } from '../auth/identity';
import { sees, type Partitions } from '../partitions/create-partitions';
import type { PermissionCheck } from '../permissions/permission-check';
import type { ResolverSet } from '../resolvers/resolver-set';
import { authenticateReplica } from '../replicas/replica-credential';
import { rowKeyString, type ReplicaRecord, type StoredRow, type StoreTransaction } from '../storage/store';
import { changeProblem, type ChangeProblem } from './change-problem';
import { mergeChange } from './merge-change';
import { crdtSince, settleCrdt, withCrdtEdits } from './merge-crdt';
import type { MergeOutcome } from './merge-outcome';
import { refuseChange } from './refuse-change';

export interface PushEnvironment {
  schema: Schema;
  resolvers: ResolverSet;
  /** Why the uploader may not make a change (insert, update or delete), if it may not. */
  refusalOf: PermissionCheck;
  /** Which rows each identity sees and may write. */
  partitions: Partitions;
  /** Whether a replica was last seen longer ago than the retention period. */
  expired: (replica: ReplicaRecord) => boolean;
  now: () => Date;
  newId: () => string;
}

/**
 * The changes of a replica at an older schema version, as the edge checked them against that
 * version before mapping them to the current one: `problems`, why a change is refused under the
 * replica's own version (its tables, columns and types); `trimmed`, the indexes of changes whose
 * values lost a column removed since — applied, they are answered `merged`, with the row as
 * stored, so the uploader does not keep what the server dropped.
 */
export interface VersionedChanges {
  problems: ReadonlyMap<FromReplicaChange, ChangeProblem | undefined>;
  trimmed: ReadonlySet<number>;
}

export interface PushOutcome {
  results: FromServerChangeResult[];
  /** The replica's watermark after the push: the highest local generation applied. */
  acknowledged: number;
}

/**
 * Applies one push inside one store transaction, together with the replica's
 * `lastAppliedLocalGeneration`. Idempotent: changes at or below that watermark were applied
 * before and are answered with the row as it stands, never applied twice. The watermark only
 * moves over changes applied here: a push starting past it + 1 is refused (`generation_gap`,
 * the replica sends again from the gap), and a push without changes never moves it.
 */
export async function applyPush(
  tx: StoreTransaction,
  env: PushEnvironment,
  push: FromReplicaPush,
  identity: Identity | undefined,
  /** What the edge found of an older schema version's changes (see `VersionedChanges`). */
  versioned: VersionedChanges = { problems: new Map(), trimmed: new Set() },
): Promise<PushOutcome> {
  const replica = authenticateReplica(await tx.getReplica(push.replicaId), push.replicaId, push.secret, identity);
  const watermark = replica.lastAppliedLocalGeneration;
  if (push.fromLocalGeneration > watermark + 1) {
    throw new ConcordError(
      'generation_gap',
      `push starts at local generation ${push.fromLocalGeneration}, but the server has applied this replica's changes only up to ${watermark}`,
      { acknowledged: watermark, pulled: replica.lastPulledGeneration },
    );
  }
  const problems = new Map(
    push.changes.map((change) => [
      change,
      versioned.problems.has(change) ? versioned.problems.get(change) : changeProblem(env.schema, change),
    ]),
  );
  // A row is looked up only by a valid name: an ill-formed rowguid could match another row's key in the database.
  const named = push.changes.filter((change) => !problems.get(change)?.naming);
  const stored = await tx.getRows(named);
  const fresh = push.changes.filter((change) => change.localGeneration > replica.lastAppliedLocalGeneration);

  const view = env.partitions.viewOf(identity);
  const current = new Map(stored);
  const writes = new Map<string, StoredRow>();
  const outcomes = new Map<string, MergeOutcome>();
  let purged: number | undefined;
  for (const change of fresh) {
    const key = rowKeyString(change.table, change.rowguid);
    const found = current.get(key);
    let before = found;
    if (!found && change.op !== 'delete' && change.baseGeneration > 0) {
      // A row gone from the store, changed over a version its purged tombstone may have followed:
      // it was deleted. The change meets that delete as a conflict, never as a new row.
      purged ??= await tx.purgedUpTo();
      if (change.baseGeneration <= purged) before = purgedTombstone(change, purged);
    }
    if (found && !sees(view, found)) {
      // A row outside the uploader's partition: nothing of it is shown, in the answer or the log.
      const reason = `row ${describeName(change.table)}/${describeName(change.rowguid)} is outside this replica's partition`;
      outcomes.set(key, refuseChange(replica.replicaId, undefined, change, 'partition', reason));
      continue;
    }
    const problem = problems.get(change);
    if (problem !== undefined) {
      // `name`: refused for what it names, which no row can have; `schema`: for its values.
      const resolver = problem.naming ? 'name' : 'schema';
      outcomes.set(key, refuseChange(replica.replicaId, before, change, resolver, problem.reason));
      continue;
    }
    const table = tableOf(env.schema, change.table)!;
    let outcome: MergeOutcome;
    try {
      outcome = withCrdtEdits(
        mergeChange(
          { table, resolvers: env.resolvers, replica: { id: replica.replicaId, priority: replica.priority } },
          before,
          change,
        ),
        before,
        change,
        replica.priority,
      );
    } catch (error) {
      outcomes.set(key, refuseChange(replica.replicaId, before, change, 'schema', (error as Error).message));
      continue;
    }
    // Permissions judge the row as the merge would store it, so a stale base cannot slip past them.
    const refusal = outcome.write && env.refusalOf(change.table, before, outcome.write, identity);
    if (refusal) {
      outcomes.set(key, refuseChange(replica.replicaId, before, change, 'permission', refusal));
      continue;
    }
    outcomes.set(key, outcome);
    if (!outcome.write) continue;
    const row: StoredRow = {
      table: change.table,
      rowguid: change.rowguid,
      values: outcome.write.values,
      deleted: outcome.write.deleted,
      generation: 0,
      writer: replica.replicaId,
      priority: outcome.write.priority,
    };
    const crdt = outcome.write.crdt ?? before?.crdt;
    if (crdt) row.crdt = crdt;
    if (table.tracking === 'column') row.columns = { ...before?.columns };
    current.set(key, row);
    writes.set(key, row);
  }
  if (env.partitions.active) {
    const changeOf = new Map(fresh.map((change) => [rowKeyString(change.table, change.rowguid), change]));
    await refuseOutside(tx, env.partitions, view, { writes, current, stored, outcomes }, (key, reason) =>
      refuseChange(replica.replicaId, stored.get(key), changeOf.get(key)!, 'partition', reason),
    );
  }

  // Generations are assigned in commit order, so a download in generation order replays history.
  let generation = writes.size > 0 ? await tx.allocateGenerations(writes.size) : 0;
  for (const [key, row] of writes) {
    row.generation = generation++;
    settleCrdt(row);
    const touched = outcomes.get(key)!.write!.touched;
    if (row.columns) {
      for (const [column, priority] of touched)
        row.columns[column] = { generation: row.generation, writer: row.writer, priority };
    }
  }
  await tx.writeRows([...writes.values()]);
  if (env.partitions.active) {
    await env.partitions.realign(
      tx,
      [...writes].map(([key, row]) => ({ row, before: stored.get(key) })),
    );
  }

  const createdAt = env.now().toISOString();
  const conflicts: ConflictEntry[] = [];
  const results = push.changes.map((change, i): FromServerChangeResult => {
    const key = rowKeyString(change.table, change.rowguid);
    const row = current.get(key);
    const outcome = outcomes.get(key);
    const answered = outcome?.outcome ?? 'duplicate';
    const result: FromServerChangeResult = {
      table: change.table,
      rowguid: change.rowguid,
      outcome: answered === 'applied' && versioned.trimmed.has(i) ? 'merged' : answered,
      generation: row?.generation ?? 0,
      deleted: row?.deleted ?? true,
    };
    // A row that left the uploader's partition is gone for it, as a removal would say.
    const hidden = row !== undefined && !sees(view, row);
    if (hidden) Object.assign(result, { deleted: true, generation: 0 });
    if (result.outcome !== 'applied') result.values = row && !row.deleted && !hidden ? row.values : null;
    // Edits to CRDT columns are answered with what the uploader lacks of them since its base.
    const lacking =
      change.crdt && row && !row.deleted && !hidden ? crdtSince(row.crdt, change.baseGeneration) : undefined;
    if (lacking) result.crdt = lacking;
    if (outcome?.reason) result.reason = outcome.reason;
    for (const draft of outcome?.conflicts ?? []) {
      const entry: ConflictEntry = {
        ...draft,
        id: env.newId(),
        // The log names what it can store and show: a refused change's names may be neither.
        table: describeName(change.table),
        rowguid: describeName(change.rowguid),
        replicaId: replica.replicaId,
        localGeneration: change.localGeneration,
        generation: result.generation,
        createdAt,
      };
      conflicts.push(entry);
      result.conflictId ??= entry.id;
    }
    return result;
  });
  await tx.addConflicts(conflicts);
  // A replay is a read, and so is a push without changes: neither leaves a trace in the store.
  if (fresh.length === 0) return { results, acknowledged: watermark };
  // An expired replica stays expired until it downloads afresh: a push is no download.
  const lastSyncAt = env.expired(replica) ? replica.lastSyncAt : createdAt;
  await tx.putReplica({ ...replica, lastAppliedLocalGeneration: push.toLocalGeneration, lastSyncAt });
  return { results, acknowledged: push.toLocalGeneration };
}

interface PushState {
  writes: Map<string, StoredRow>;
  current: Map<string, StoredRow>;
  stored: ReadonlyMap<string, StoredRow>;
  outcomes: Map<string, MergeOutcome>;
}

/**
 * Stamps the push's writes with their partitions and refuses those the uploader's view would not
 * see once written — unless the table lets rows move out of a partition the uploader sees. A
 * refused write may have been the parent another one was stamped from, so stamping runs again
 * until every write left stands.
 */
async function refuseOutside(
  tx: StoreTransaction,
  partitions: Partitions,
  view: ReturnType<Partitions['viewOf']>,
  { writes, current, stored, outcomes }: PushState,
  refuse: (key: string, reason: string) => MergeOutcome,
): Promise<void> {
  for (let refused = true; refused;) {
    refused = false;
    await partitions.stamp(tx, [...writes.values()], current);
    for (const [key, row] of writes) {
      const before = stored.get(key);
      if (partitions.allows(view, before, row)) continue;
      const where = `${describeName(row.table)}/${describeName(row.rowguid)}`;
      outcomes.set(key, refuse(key, `row ${where} would be outside this replica's partition`));
      writes.delete(key);
      if (before) current.set(key, before);
      else current.delete(key);
      refused = true;
    }
  }
}

/** The tombstone a purge removed, as far as it can be known: a delete after `purged`'s version, by no known replica. */
function purgedTombstone(change: { table: string; rowguid: string }, purged: number): StoredRow {
  return {
    table: change.table,
    rowguid: change.rowguid,
    values: {},
    deleted: true,
    generation: purged + 1,
    writer: '',
    priority: 0,
  };
}
