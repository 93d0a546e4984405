import type { Hono } from 'hono';
import {
  ConcordError,
  PROTOCOL_VERSION,
  describeName,
  tableOf,
  fromReplicaPull,
  fromReplicaPush,
  fromReplicaValidate,
  type FromServerChange,
  type FromServerValidate,
  type FromServerPull,
  type FromServerPush,
} from '@concord/shared';
import { applyPush } from '../merge/apply-push';
import { crdtSince } from '../merge/merge-crdt';
import type { StoredRow } from '../storage/store';
import { checkCursor } from '../replicas/check-cursor';
import { authenticateReplica } from '../replicas/replica-credential';
import { checkChanges } from './check-changes';
import { identityOf } from './require-identity';
import type { Identity } from '../auth/identity';
import type { BodyReader } from './read-body';
import type { RouteEnvironment } from './route-environment';
import { changesToCurrent, rowsForVersion } from '../versions/version-mapping';
import { checkStore, checkPartition, partitionChanged, refuseExpired } from './check-download';

/**
 * `POST /push` uploads a replica's changes and `POST /pull` downloads the server's, a page at a
 * time; `POST /validate` counts what a replica should hold. Every body is validated before the
 * store is touched.
 */
export function syncRoutes(app: Hono, env: RouteEnvironment, readBody: BodyReader): void {
  const { store, schema } = env;
  // Upload-only tables are never sent down; the store leaves them out so pages stay full and exact.
  const uploadOnly = schema.tableNames.filter((name) => schema.tables[name]!.direction === 'upload-only');
  /**
   * What a download (or a comparison) checks before it reads: the replica's credential, a store
   * this server may serve, the cursor's commit, and that the replica has not expired.
   */
  const openDownload = async (
    request: { replicaId: string; secret?: string; after: number; commit?: string },
    identity: Identity | undefined,
  ) => {
    const replica = authenticateReplica(
      await store.getReplica(request.replicaId),
      request.replicaId,
      request.secret,
      identity,
    );
    const meta = checkStore(await store.meta(), env);
    await checkCursor(store, replica, request.after, request.commit);
    refuseExpired(env, replica, request.after);
    return { replica, meta };
  };
  /** The schema of a replica at an older version this server serves; undefined at the current one. */
  const olderSchema = (version: number) => (version < schema.version ? env.versions.at(version) : undefined);
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
    const older = olderSchema(push.schemaVersion);
    const versioned = older ? changesToCurrent(schema, older, push.changes) : undefined;
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
    const { epoch } = checkStore(await store.meta(), env);
    const { results, acknowledged } = await store.transaction((tx) => applyPush(tx, env, push, identity, versioned));
    return c.json({
      protocol: PROTOCOL_VERSION,
      epoch,
      acknowledged,
      // A change to a table an older version lacks was refused: its answer shows no values.
      results: older
        ? results.map((result) => rowsForVersion(schema, older, [result])[0] ?? { ...result, values: null })
        : results,
    } satisfies FromServerPush);
  });
  app.post('/pull', async (c) => {
    const pull = await readBody(c, fromReplicaPull);
    const identity = identityOf(c);
    const { replica, meta } = await openDownload(pull, identity);
    const { epoch, generation } = meta;
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
      exceptTables: pull.tables ? notListed(env, pull.schemaVersion, pull.tables, uploadOnly) : uploadOnly,
      view,
    });
    refuseExpired(env, replica, pull.after, page.purged);
    // Reinitializing some tables leaves the replica's cursor where it was.
    if (!pull.tables) await store.notePull(pull.replicaId, pull.after, env.now().toISOString());
    const changes: FromServerChange[] = page.rows.map(({ table, rowguid, generation, deleted, values, crdt }) => ({
      table,
      rowguid,
      generation,
      deleted,
      values: deleted ? null : values,
      ...(!deleted && crdtChanges(crdt, pull.after)),
    }));
    // A row that left the partition comes down as a removal: the replica drops its copy.
    for (const { table, rowguid, generation } of page.removals) {
      changes.push({ table, rowguid, generation, deleted: true, values: null, removed: true });
    }
    const older = olderSchema(pull.schemaVersion);
    let shared: number | undefined;
    for (const cursor of pull.cursors ?? []) {
      if ((await store.commitAt(cursor.generation)) === cursor.commit)
        shared = Math.max(shared ?? 0, cursor.generation);
    }
    return c.json({
      protocol: PROTOCOL_VERSION,
      epoch,
      changes: older ? rowsForVersion(schema, older, changes) : changes,
      cursor: page.cursor,
      commit: page.commit,
      more: page.more,
      generation: Math.max(generation, page.cursor),
      ...(pull.cursors && { shared: shared ?? 0 }),
    } satisfies FromServerPull);
  });
  app.post('/validate', async (c) => {
    const request = await readBody(c, fromReplicaValidate);
    if (request.schemaVersion !== schema.version) {
      // Its rows lack the columns added since, and its checksums would count other columns.
      throw new ConcordError(
        'schema_mismatch',
        `validation compares rows at the server's schema version ${schema.version}; this replica is at ${request.schemaVersion}: update the app first`,
        { server: schema.version, served: env.versions.served, replica: request.schemaVersion, update: 'replica' },
      );
    }
    const identity = identityOf(c);
    const { replica, meta } = await openDownload(request, identity);
    const { epoch } = meta;
    // Counted for another partition than the replica downloaded for, the sums would mean nothing.
    if (replica.partition !== env.partitionOf(identity)) throw partitionChanged();
    const view = env.partitions.viewOf(identity);
    // Its own writes count too: one pushed by another of its tabs after the snapshot is left out.
    const query = { exceptTables: uploadOnly, view, limit: env.limits.maxPullChanges };
    const behind: FromServerValidate = { protocol: PROTOCOL_VERSION, epoch, behind: true, tables: [], changed: [] };
    // What changed since the replica's cursor, it does not have yet: both sides leave it out.
    const page = await store.changesSince({ after: request.after, ...query });
    if (page.more) return c.json(behind);
    refuseExpired(env, replica, request.after, page.purged);
    const changed = [...page.rows, ...page.removals].map(({ table, rowguid }) => ({ table, rowguid }));
    const tables = schema.tableNames.filter((name) => !uploadOnly.includes(name));
    const sums = await store.checksums({ tables, view, exclude: [...request.exclude, ...changed] });
    // The sums were read on a later snapshot than the page: nothing the replica lacks may lie between.
    const later = await store.changesSince({ after: page.cursor, ...query, limit: 1 });
    if (later.rows.length + later.removals.length > 0) return c.json(behind);
    return c.json({
      protocol: PROTOCOL_VERSION,
      epoch,
      behind: false,
      tables: tables.map((table) => ({ table, ...sums.get(table)! })),
      changed,
    } satisfies FromServerValidate);
  });
}

/**
 * The tables a pull of `tables` leaves out: every other one, and those never sent down. Each name
 * must be a table of the replica's own schema version.
 */
function notListed(
  env: Pick<RouteEnvironment, 'schema' | 'versions'>,
  version: number,
  tables: readonly string[],
  uploadOnly: readonly string[],
): string[] {
  const known = env.versions.at(version)!;
  for (const name of tables) {
    if (!tableOf(known, name)) throw new ConcordError('unknown_table', `unknown table ${describeName(name)}`);
  }
  return env.schema.tableNames.filter((name) => !tables.includes(name) || uploadOnly.includes(name));
}

/** A pulled row's CRDT columns: what a replica at `after` lacks of them, if anything. */
function crdtChanges(crdt: StoredRow['crdt'], after: number): { crdt?: Record<string, string> } {
  const lacking = crdtSince(crdt, after);
  return lacking ? { crdt: lacking } : {};
}
