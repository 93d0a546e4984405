import type { Hono } from 'hono';
import {
  ConcordError,
  PROTOCOL_VERSION,
  fromReplicaPull,
  fromReplicaPush,
  type FromServerChange,
  type FromServerPull,
  type FromServerPush,
} from '@concord/shared';
import { applyPush } from '../merge/apply-push';
import { checkCursor } from '../replicas/check-cursor';
import { authenticateReplica } from '../replicas/replica-credential';
import { checkChanges } from './check-changes';
import { identityOf } from './require-identity';
import type { BodyReader } from './read-body';
import type { RouteEnvironment } from './route-environment';
import type { Partitions } from '../partitions/create-partitions';
import type { ReplicaRecord, Store, StoreMeta } from '../storage/store';

/**
 * `POST /push` uploads a replica's changes and `POST /pull` downloads the server's, a page at a
 * time. Every body is validated before the store is touched.
 */
export function syncRoutes(app: Hono, env: RouteEnvironment, readBody: BodyReader): void {
  const { store, schema } = env;
  // Upload-only tables are never sent down; the store leaves them out so pages stay full and exact.
  const uploadOnly = schema.tableNames.filter((name) => schema.tables[name]!.direction === 'upload-only');
  app.post('/push', async (c) => {
    const push = await readBody(c, fromReplicaPush, (body) => {
      const changes = (body as { changes?: unknown } | null)?.changes;
      if (Array.isArray(changes) && changes.length > env.limits.maxPushChanges) {
        throw new ConcordError(
          'payload_too_large',
          `a push carries at most ${env.limits.maxPushChanges} changes, got ${changes.length}`,
          { maxPushChanges: env.limits.maxPushChanges },
        );
      }
    });
    checkChanges(push.changes);
    const identity = identityOf(c);
    if (push.after !== undefined) {
      const replica = authenticateReplica(
        await store.getReplica(push.replicaId),
        push.replicaId,
        push.secret,
        identity,
      );
      await checkCursor(store, replica, push.after, push.commit);
    }
    const { epoch } = checkFilters(await store.meta(), env.partitions);
    const { results, acknowledged } = await store.transaction((tx) => applyPush(tx, env, push, identity));
    return c.json({
      protocol: PROTOCOL_VERSION,
      epoch,
      acknowledged,
      results,
    } satisfies FromServerPush);
  });
  app.post('/pull', async (c) => {
    const pull = await readBody(c, fromReplicaPull);
    const identity = identityOf(c);
    const replica = authenticateReplica(await store.getReplica(pull.replicaId), pull.replicaId, pull.secret, identity);
    const { epoch, generation } = checkFilters(await store.meta(), env.partitions);
    await checkCursor(store, replica, pull.after, pull.commit);
    if (pull.after > 0 && env.expired(replica)) {
      // Tombstones it never downloaded may be gone: it can only download afresh.
      throw new ConcordError(
        'expired_replica',
        `this replica was last seen at ${replica.lastSyncAt ?? replica.createdAt}, longer ago than the retention period: it downloads afresh`,
        { lastSyncAt: replica.lastSyncAt },
      );
    }
    const view = env.partitions.viewOf(identity);
    await checkPartition(store, replica, pull.after, env.partitionOf(identity));
    if (pull.acknowledged !== undefined && pull.acknowledged > replica.lastAppliedLocalGeneration) {
      // The replica had changes acknowledged that this store never applied: it was restored from a backup.
      throw new ConcordError(
        'generation_gap',
        `the replica knows local generation ${pull.acknowledged} was applied, but this store has applied only up to ${replica.lastAppliedLocalGeneration}`,
        { acknowledged: replica.lastAppliedLocalGeneration, pulled: replica.lastPulledGeneration },
      );
    }
    const page = await store.changesSince({
      after: pull.after,
      limit: Math.min(pull.limit ?? env.defaultPullChanges, env.limits.maxPullChanges),
      maxBytes: env.maxPullBytes,
      exceptWriter: pull.own ? undefined : pull.replicaId,
      exceptTables: uploadOnly,
      view,
    });
    if (pull.after > 0 && page.purged > pull.after) {
      // A purge passed this replica's cursor (it raced the expiry check, or the replica's own
      // database went back in time): deletes it never downloaded may be gone.
      throw new ConcordError(
        'expired_replica',
        "tombstones past this replica's cursor were purged: it downloads afresh",
        {
          lastSyncAt: replica.lastSyncAt,
        },
      );
    }
    await store.notePull(pull.replicaId, pull.after, env.now().toISOString());
    const changes: FromServerChange[] = page.rows.map(({ table, rowguid, generation, deleted, values }) => ({
      table,
      rowguid,
      generation,
      deleted,
      values: deleted ? null : values,
    }));
    // A row that left the partition comes down as a removal: the replica drops its copy.
    for (const { table, rowguid, generation } of page.removals) {
      changes.push({ table, rowguid, generation, deleted: true, values: null, removed: true });
    }
    let shared: number | undefined;
    for (const cursor of pull.cursors ?? []) {
      if ((await store.commitAt(cursor.generation)) === cursor.commit)
        shared = Math.max(shared ?? 0, cursor.generation);
    }
    return c.json({
      protocol: PROTOCOL_VERSION,
      epoch,
      changes,
      cursor: page.cursor,
      commit: page.commit,
      more: page.more,
      generation: Math.max(generation, page.cursor),
      ...(pull.cursors && { shared: shared ?? 0 }),
    } satisfies FromServerPull);
  });
}

/**
 * A download continues only for the partition it was made for. The claims of the replica's
 * identity may have changed since (or the server's filters): then it must download again from the
 * start (`partition_changed`), and a download from the start records the partition it is for.
 */
async function checkPartition(
  store: Store,
  replica: ReplicaRecord,
  after: number,
  partition: string | null,
): Promise<void> {
  if (replica.partition === partition) return;
  if (after > 0) {
    throw new ConcordError(
      'partition_changed',
      'the partition this replica downloaded for has changed: it downloads again from the start',
    );
  }
  await store.transaction(async (tx) => {
    const current = await tx.getReplica(replica.replicaId);
    if (current) await tx.putReplica({ ...current, partition });
  });
}

/**
 * The store's rows must be stamped for this server's partition filters. Another process sharing
 * the database may have stamped them for others since this one started (a deploy half done):
 * then this one serves nothing until it runs with the same filters.
 */
function checkFilters(meta: StoreMeta, partitions: Partitions): StoreMeta {
  if (meta.partitions === partitions.filtersPrint) return meta;
  throw new ConcordError(
    'unavailable',
    "the store's rows are stamped for other partition filters than this server's: every server sharing a database must run with the same filters",
  );
}
