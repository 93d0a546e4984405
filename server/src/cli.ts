import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { Schema } from '@concord/shared';
import { createSyncServer } from './create-sync-server';
import type { AuthOptions } from './auth/auth-options';
import type { Identity } from './auth/identity';
import type { PartitionConfig } from './partitions/partition-config';
import type { PermissionConfig } from './permissions/permission-config';
import { purgeExpired } from './retention/purge-expired';
import type { RetentionOptions } from './retention/retention-options';
import { describeCheck, validateReplicas } from './validation/validate-replicas';
import type { ResolverConfig } from './resolvers/resolver-config';
import { createPostgresStore } from './storage/postgres/postgres-store';
import { createSqliteStore } from './storage/sqlite/sqlite-store';
import type { Store } from './storage/store';

const USAGE = `Usage: concord-server --schema <module> [--port 8787] [--host 127.0.0.1] [--data-dir ./data | --postgres <url>] [--static <dir>]
       concord-server purge --schema <module> [--data-dir ./data | --postgres <url>]
         purges now what the retention period no longer keeps, and prints what it removed
       concord-server validate --schema <module> [--data-dir ./data | --postgres <url>]
         checks every replica's record against the store (expired, passed by a purge, ahead
         of a restored store) and prints each table's row count and checksum

  --schema    a module whose export "schema" (or default export) is the replicated schema,
              and whose optional exports "resolvers", "auth", "permissions", "partitions"
              and "reviewer" configure conflict resolution, authentication (without it the
              server is open to anyone), who may write what, who sees which rows and who
              reviews every conflict; an optional export "routes" (a Hono app) is served
              next to the sync API, and "retention" how long old records are kept
  --port      port to listen on (env PORT; default 8787)
  --host      address to listen on (env HOST; default 127.0.0.1)
  --data-dir  where the SQLite file lives, created if missing (env CONCORD_DATA_DIR; default ./data)
  --postgres  a PostgreSQL URL: keep the data there instead of SQLite (env CONCORD_POSTGRES_URL)
  --static    a directory of web files (a built app) to serve at / next to the sync API`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      schema: { type: 'string' },
      port: { type: 'string', default: process.env.PORT ?? '8787' },
      host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
      'data-dir': { type: 'string', default: process.env.CONCORD_DATA_DIR ?? 'data' },
      postgres: { type: 'string', default: process.env.CONCORD_POSTGRES_URL },
      static: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (!values.schema) throw new Error(`--schema is required\n${USAGE}`);
  const [command, ...extra] = positionals;
  if ((command !== undefined && command !== 'purge' && command !== 'validate') || extra.length > 0) {
    throw new Error(`unknown command "${positionals.join(' ')}"\n${USAGE}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a port number, got "${values.port}"`);

  const module = (await import(pathToFileURL(resolve(values.schema)).href)) as {
    schema?: Schema;
    default?: Schema;
    resolvers?: ResolverConfig;
    auth?: AuthOptions;
    permissions?: PermissionConfig;
    partitions?: PartitionConfig;
    reviewer?: (identity: Identity) => boolean;
    routes?: Hono;
    retention?: RetentionOptions;
  };
  const schema = module.schema ?? module.default;
  if (!schema) throw new Error(`${values.schema} exports no "schema"`);
  const webRoot = values.static && resolve(values.static);
  if (webRoot && !existsSync(join(webRoot, 'index.html'))) throw new Error(`--static: no index.html in ${webRoot}`);
  const { store, where } = openStore(values.postgres, values['data-dir']);
  const { resolvers, auth, permissions, partitions, reviewer, routes, retention } = module;
  if (command === 'purge') return purgeNow(store, where, retention);
  if (command === 'validate') return validateNow(store, schema, where, retention);
  const sync = createSyncServer({ schema, store, resolvers, auth, permissions, partitions, reviewer, retention });
  await store.meta(); // fail at startup, not on the first request, when the database is unreachable
  const app = routes || webRoot ? withRoutes(sync, routes, webRoot) : sync;

  const server = serve({ fetch: app.fetch, port, hostname: values.host }, (info) => {
    console.log(`concord: sync server listening on http://${values.host}:${info.port}/v1`);
    if (webRoot) console.log(`concord: app at http://${values.host}:${info.port}/ (from ${webRoot})`);
    console.log(`concord: data in ${where}, schema version ${schema.version}`);
  });
  server.once('error', (error: NodeJS.ErrnoException) => {
    const reason =
      error.code === 'EADDRINUSE'
        ? `port ${port} on ${values.host} is already in use: stop whatever listens there, or choose another with --port`
        : error.code === 'EACCES'
          ? `not allowed to listen on port ${port} on ${values.host}: choose a port above 1023 with --port`
          : error.message;
    console.error(`concord: ${reason}`);
    void store.close().finally(() => process.exit(1));
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`concord: ${signal} received, shutting down`);
    server.close(() => void store.close().then(() => process.exit(0)));
    // Event streams stay open until their replicas go, so every connection is ended: a request
    // cut mid-way loses only its answer, and its replica sends it again (uploads are idempotent).
    if ('closeAllConnections' in server) server.closeAllConnections();
    setTimeout(() => process.exit(1), 5_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * The sync API under /v1, the module's own routes, and a built web app's files at / (any other
 * path answers its index.html); without an app, the sync API answers every other path.
 */
function withRoutes(sync: Hono, routes: Hono | undefined, webRoot: string | undefined): Hono {
  const app = new Hono();
  app.all('/v1/*', (c) => sync.fetch(c.req.raw));
  if (routes) app.route('/', routes);
  if (webRoot) {
    app.use('/*', serveStatic({ root: webRoot }));
    app.get('/*', serveStatic({ path: join(webRoot, 'index.html') }));
  }
  app.all('*', (c) => sync.fetch(c.req.raw));
  return app;
}

/** The `purge` command: one purge now, its progress and totals printed, then the store closed. */
async function purgeNow(store: Store, where: string, retention: RetentionOptions = {}): Promise<void> {
  try {
    console.log(`concord: purging ${where}`);
    const totals = await purgeExpired(store, {
      ...retention,
      onBatch: (sofar) => console.log(`concord: purged so far ${JSON.stringify(sofar)}`),
    });
    console.log(
      `concord: purged ${totals.tombstones} tombstones, ${totals.moves} moves and ${totals.conflicts} settled conflict entries`,
    );
  } finally {
    await store.close();
  }
}

/** The `validate` command: every replica record checked, each table summed, then the store closed. */
async function validateNow(store: Store, schema: Schema, where: string, retention: RetentionOptions = {}) {
  try {
    console.log(`concord: validating ${where}`);
    const { tables, replicas } = await validateReplicas(store, schema, {
      periodMs: retention.periodMs,
      onReplica: (check) => console.log(`concord: replica ${describeCheck(check)}`),
    });
    for (const [table, { count, checksum }] of tables) {
      console.log(`concord: table ${table}: ${count} rows, checksum ${checksum}`);
    }
    const states = Object.entries(replicas).map(([health, count]) => `${count} ${health}`);
    console.log(`concord: replicas: ${states.join(', ')}`);
  } finally {
    await store.close();
  }
}

function openStore(postgres: string | undefined, dataDir: string): { store: Store; where: string } {
  if (postgres) {
    const store = createPostgresStore({ connectionString: postgres });
    return { store, where: `${withoutPassword(postgres)} (PostgreSQL)` };
  }
  const filename = resolve(dataDir, 'concord.db');
  return { store: createSqliteStore({ filename }), where: `${filename} (SQLite)` };
}

/** A connection string safe to print. */
function withoutPassword(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return 'the configured database'; // a key=value string may hold a password anywhere
  }
}

main().catch((error: unknown) => {
  console.error(`concord: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
