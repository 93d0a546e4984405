import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { v7 as uuidv7 } from 'uuid';
import { ConcordError, DEFAULT_SERVER_LIMITS, PROTOCOL_LIMITS, type Schema } from '@concord/shared';
import type { AuthOptions } from './auth/auth-options';
import type { Identity } from './auth/identity';
import { createAuthenticator } from './auth/create-authenticator';
import { errorResponse } from './http/error-response';
import { readBody, type BodyReader } from './http/read-body';
import { createSchemaVersions } from './versions/schema-versions';
import { conflictRoutes } from './http/conflict-routes';
import { eventRoutes } from './http/event-routes';
import { healthRoute } from './http/health-route';
import { replicaRoutes } from './http/replica-routes';
import { requireIdentity } from './http/require-identity';
import { requireJson } from './http/require-json';
import type { RouteEnvironment } from './http/route-environment';
import { syncRoutes } from './http/sync-routes';
import { createPartitions } from './partitions/create-partitions';
import type { PartitionConfig } from './partitions/partition-config';
import { restampRows } from './partitions/restamp-rows';
import { migrateRows } from './versions/migrate-rows';
import { purgeExpired } from './retention/purge-expired';
import { checkRetention, type RetentionOptions } from './retention/retention-options';
import type { PermissionConfig } from './permissions/permission-config';
import { createPermissionCheck } from './permissions/permission-check';
import { createPokeHub } from './realtime/poke-hub';
import type { ReplicaRegistration } from './replicas/register-replica';
import { seenBefore } from './replicas/replica-expiry';
import { createResolverSet, type ResolverConfig } from './resolvers/resolver-set';
import type { Store } from './storage/store';

export interface SyncServerOptions {
  schema: Schema;
  /**
   * Older versions of the schema this server still serves, for replicas not yet updated: their
   * uploads are mapped to the current version through `schema.migrations` (a renamed column takes
   * its new name, a removed one goes) and what they download is mapped back, to the columns they
   * know. Checked at startup: every table and column of each must map onto the current schema.
   */
  olderSchemas?: Schema[];
  store: Store;
  /**
   * How callers prove who they are: a bearer JWT checked with a shared `secret`, a `publicKey`
   * or a `jwks`, or a `verify(request)` of your own. With it, every route but health needs a
   * valid token and a replica is used only by the subject that registered it. Without it, the
   * server is open to anyone: for development.
   */
  auth?: AuthOptions;
  resolvers?: ResolverConfig;
  /**
   * Who may insert, update and delete each table's rows: per table and action, `true`, `false`
   * or a predicate of the identity and the row. A refused change is rejected on its own and
   * logged (resolver `permission`); the uploader gets the row as it stands. Default: allowed.
   */
  permissions?: PermissionConfig;
  /**
   * Which rows each identity sees and may write, per table: `{ column, claim }` sends a row to
   * the identities whose token claim holds the row's column value (one value, a list, or `"*"`
   * for every row); `{ parent, via }` sends a row wherever its parent row goes. Tables left out
   * go to everyone. Needs `auth`: partitions come from verified claims only.
   */
  partitions?: PartitionConfig;
  /**
   * Who reviews conflicts: an identity for which it returns true lists and settles every
   * conflict entry, outside its own partition too. Default: nobody; everyone else sees the
   * entries on rows of their partition and those of their own uploads.
   */
  reviewer?: (identity: Identity) => boolean;
  /**
   * How long the server keeps what only old replicas could need: `periodMs` (default 14 days),
   * how often it purges by itself (`purgeEveryMs`, default hourly; 0 for never), and the batch
   * size. A replica not seen within the period is expired: it uploads, then downloads afresh.
   */
  retention?: RetentionOptions;
  /**
   * The priority (0–100) given to a replica when it registers, decided from its registration
   * request (its headers: a bearer token, a branch name). Default 0 for every replica: the first
   * to reach the server wins. Anything but a number from 0 to 100 fails the registration.
   */
  replicaPriority?: (registration: ReplicaRegistration) => number | Promise<number>;
  limits?: {
    /** Bodies larger than this are refused before they are parsed. Default 8 MiB. */
    maxBodyBytes?: number;
    /** Most changes accepted in one push. Default 5,000. */
    maxPushChanges?: number;
    /** Most changes returned by one pull. Default 5,000; a pull without `limit` gets 1,000. */
    maxPullChanges?: number;
    /**
     * A pull page stops adding rows once their stored data reaches this many bytes. Default 4 MiB.
     * A page always holds at least one row and never splits a transaction.
     */
    maxPullBytes?: number;
  };
  /**
   * Cross-origin access for apps served from another origin: Hono's `cors()` options, `origin`
   * required (`'https://app.example.com'`, a list, or a function of the request's origin). Off by
   * default: only pages of the server's own origin may call it from a browser.
   */
  cors?: CorsOptions;
  realtime?: {
    /** How often an idle event stream (`GET /v1/events`) sends a ping. Default 15 s. */
    heartbeatMs?: number;
  };
  now?: () => Date;
  newId?: () => string;
  /** Where unexpected server errors are reported. Default `console.error`. */
  log?: (error: unknown) => void;
}

export type CorsOptions = NonNullable<Parameters<typeof cors>[0]> & {
  origin: NonNullable<NonNullable<Parameters<typeof cors>[0]>['origin']>;
};

/** The sync server as a Hono app: mount it, serve it, or drive it with `app.request()` in tests. */
export function createSyncServer(options: SyncServerOptions): Hono {
  const { schema, store, limits = {} } = options;
  const partitions = createPartitions(schema, options.partitions);
  const retention = checkRetention(options.retention);
  if (partitions.active && !options.auth) {
    throw new Error(
      'partitions need auth: a partition is chosen by the claims of a verified token, never by a request',
    );
  }
  const maxBodyBytes = limits.maxBodyBytes ?? DEFAULT_SERVER_LIMITS.maxBodyBytes;
  const env: RouteEnvironment = {
    schema,
    versions: createSchemaVersions(schema, options.olderSchemas),
    store,
    resolvers: createResolverSet(schema, options.resolvers),
    refusalOf: createPermissionCheck(schema, options.permissions),
    partitions,
    expired: (replica) => seenBefore(replica, new Date(env.now().getTime() - retention.periodMs).toISOString()),
    reviews: (identity) => {
      try {
        return identity !== undefined && options.reviewer?.(identity) === true;
      } catch {
        return false; // a reviewer check that fails grants nothing
      }
    },
    now: options.now ?? (() => new Date()),
    newId: options.newId ?? (() => uuidv7()),
    priorityOf: options.replicaPriority ?? (() => 0),
    partitionOf: (identity) => (partitions.active ? partitions.fingerprint(partitions.viewOf(identity)) : null),
    limits: {
      maxBodyBytes,
      maxPushChanges: Math.min(
        limits.maxPushChanges ?? DEFAULT_SERVER_LIMITS.maxPushChanges,
        PROTOCOL_LIMITS.maxChangesPerPush,
      ),
      maxPullChanges: Math.min(
        limits.maxPullChanges ?? DEFAULT_SERVER_LIMITS.maxPullChanges,
        PROTOCOL_LIMITS.maxChangesPerPull,
      ),
    },
    defaultPullChanges: 1_000,
    maxPullBytes: limits.maxPullBytes ?? 4 * 1024 * 1024,
  };
  // Every commit to the store, by this process or another sharing its database, pokes the streams.
  const pokes = createPokeHub();
  store.onCommit((generation, { conflicts }) => pokes.publish(generation, conflicts));
  const log = options.log ?? ((error: unknown) => console.error('concord: unexpected error', error));
  if (retention.purgeEveryMs > 0) schedulePurges(store, retention, env.now, log);
  const read: BodyReader = (c, message, precheck) => readBody(c, message, env.versions, precheck);

  const app = new Hono();
  if (options.cors) app.use('/v1/*', cors(options.cors));
  // Health answers before anything below it runs: it stays open, wherever the app is mounted.
  const open = new Hono();
  healthRoute(open, env);
  app.route('/v1', open);
  if (options.auth) {
    const authenticate = createAuthenticator(options.auth, { fetch, now: () => env.now().getTime() });
    app.use('/v1/*', requireIdentity(authenticate));
  }
  // Rows written for an older schema version are brought to this one, and rows stamped for
  // other partition filters stamped again, before anything is served.
  const stamped = migrateRows(store, env.versions).then(() => restampRows(store, partitions));
  stamped.catch(() => undefined); // reported by every request instead
  app.use('/v1/*', async (_c, next) => {
    await stamped;
    await next();
  });
  app.use('/v1/*', requireJson);
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw new ConcordError('payload_too_large', `the request body exceeds ${maxBodyBytes} bytes`, { maxBodyBytes });
      },
    }),
  );
  const v1 = new Hono();
  replicaRoutes(v1, env, read);
  syncRoutes(v1, env, read);
  conflictRoutes(v1, env, read);
  eventRoutes(v1, { store, pokes, heartbeatMs: options.realtime?.heartbeatMs ?? 15_000 });
  app.route('/v1', v1);
  app.notFound((c) =>
    c.json(new ConcordError('not_found', `no route for ${c.req.method} ${c.req.path}`).toJSON(), 404),
  );
  app.onError((error, c) => errorResponse(error, c, log));
  return app;
}

/** Purges on a schedule, one purge at a time, until the store closes; the timer never keeps the process alive. */
function schedulePurges(
  store: Store,
  { periodMs, purgeEveryMs, batch }: Required<RetentionOptions>,
  now: () => Date,
  log: (error: unknown) => void,
): void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    purgeExpired(store, { periodMs, batch, now })
      .catch((error: unknown) => {
        if (error instanceof ConcordError && error.code === 'unavailable')
          clearInterval(timer); // the store closed
        else log(error);
      })
      .finally(() => (running = false));
  }, purgeEveryMs);
  timer.unref();
}
