import { Hono } from 'hono';
import {
  ConcordError,
  PROTOCOL_VERSION,
  isStorableName,
  fromReplicaConflictsQuery,
  fromReplicaPull,
  fromReplicaPush,
  fromReplicaRegister,
  fromReplicaResolveConflict,
  type FromServerConflicts,
  type FromServerPull,
  type FromServerPush,
  type FromServerRegister,
  type FromServerResolveConflict,
  type ServerLimits,
} from '@concord/shared';
import { applyOverride } from '../merge/apply-override';
import { applyPush, type PushEnvironment } from '../merge/apply-push';
import { checkChanges } from '../merge/check-changes';
import { checkCursor } from '../replicas/check-cursor';
import { authenticateReplica, hashReplicaSecret, newReplicaSecret } from '../replicas/replica-credential';
import type { BodyReader } from './read-body';
import type { Store } from '../storage/store';

export interface RouteEnvironment extends PushEnvironment {
  store: Store;
  priorityOf: (registration: { request: Request }) => number | Promise<number>;
  /** What this server accepts; announced at registration and in `/v1/health`. */
  limits: ServerLimits;
  defaultPullChanges: number;
  /** A pull page stops adding rows once their stored data reaches this many bytes (whole transactions, at least one row). */
  maxPullBytes: number;
}

/** The replication routes, mounted under `/v1`. Every body is validated before the store is touched. */
export function replicationRoutes(env: RouteEnvironment, readBody: BodyReader) {
  const { store, schema } = env;
  // Upload-only tables are never sent down; the store leaves them out so pages stay full and exact.
  const uploadOnly = schema.tableNames.filter((name) => schema.tables[name]!.direction === 'upload-only');
  return new Hono()
    .get('/health', async (c) => {
      const { generation, epoch } = await store.meta();
      const { limits } = env;
      return c.json({ ok: true, protocol: PROTOCOL_VERSION, schemaVersion: schema.version, epoch, generation, limits });
    })
    .post('/replicas', async (c) => {
      await readBody(c, fromReplicaRegister);
      const replicaId = env.newId();
      const priority = await env.priorityOf({ request: c.req.raw });
      if (typeof priority !== 'number' || !(priority >= 0 && priority <= 100)) {
        throw new Error(`replicaPriority must give a number from 0 to 100, got ${JSON.stringify(priority)}`);
      }
      const createdAt = env.now().toISOString();
      const secret = newReplicaSecret();
      await store.transaction((tx) =>
        tx.putReplica({
          replicaId,
          priority,
          createdAt,
          lastSyncAt: null,
          lastAppliedLocalGeneration: 0,
          lastPulledGeneration: 0,
          secretHash: hashReplicaSecret(secret),
        }),
      );
      const { epoch, generation } = await store.meta();
      const { limits } = env;
      return c.json(
        {
          protocol: PROTOCOL_VERSION,
          replicaId,
          secret,
          priority,
          epoch,
          generation,
          limits,
        } satisfies FromServerRegister,
        201,
      );
    })
    .post('/push', async (c) => {
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
      if (push.after !== undefined) {
        const replica = authenticateReplica(await store.getReplica(push.replicaId), push.replicaId, push.secret);
        await checkCursor(store, replica, push.after, push.commit);
      }
      const { results, acknowledged } = await store.transaction((tx) => applyPush(tx, env, push));
      const { epoch } = await store.meta();
      return c.json({
        protocol: PROTOCOL_VERSION,
        epoch,
        acknowledged,
        results,
      } satisfies FromServerPush);
    })
    .post('/pull', async (c) => {
      const pull = await readBody(c, fromReplicaPull);
      const replica = authenticateReplica(await store.getReplica(pull.replicaId), pull.replicaId, pull.secret);
      const { epoch, generation } = await store.meta();
      await checkCursor(store, replica, pull.after, pull.commit);
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
      });
      await store.notePull(pull.replicaId, pull.after, env.now().toISOString());
      const changes = page.rows.map(({ table, rowguid, generation, deleted, values }) => ({
        table,
        rowguid,
        generation,
        deleted,
        values: deleted ? null : values,
      }));
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
    })
    .get('/conflicts', async (c) => {
      const parsed = fromReplicaConflictsQuery.safeParse(c.req.query());
      if (!parsed.success) {
        throw new ConcordError(
          'bad_request',
          `invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      const query = { ...parsed.data, maxBytes: env.maxPullBytes };
      const conflicts = await store.listConflicts(query);
      // A page full by count, or cut by size, may have entries after it.
      const size = conflicts.reduce((sum, entry) => sum + JSON.stringify(entry).length, 0);
      const more = conflicts.length === query.limit || size >= query.maxBytes;
      return c.json({ protocol: PROTOCOL_VERSION, conflicts, more } satisfies FromServerConflicts);
    })
    .post('/conflicts/:id/resolve', async (c) => {
      const request = await readBody(c, fromReplicaResolveConflict);
      const id = c.req.param('id');
      if (!isStorableName(id)) throw new ConcordError('not_found', 'no conflict with that id');
      const { conflict, generation } = await store.transaction((tx) => applyOverride(tx, env, id, request));
      return c.json({ protocol: PROTOCOL_VERSION, conflict, generation } satisfies FromServerResolveConflict);
    });
}
