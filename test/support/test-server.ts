import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  PROTOCOL_VERSION,
  defineSchema,
  type FromReplicaChange,
  type FromServerConflicts,
  type FromServerPull,
  type FromServerPush,
  type FromServerRegister,
  type Schema,
} from '@concord/shared';
import {
  createSqliteStore,
  createSyncServer,
  type ResolverConfig,
  type Store,
  type SyncServerOptions,
} from '@concord/server';

/** A schema with one row-tracked and one column-tracked table, used across the suites. */
export const testSchema = defineSchema({
  version: 1,
  tables: {
    notes: { columns: { title: 'string', body: 'string', pinned: 'boolean', rank: 'integer' } },
    stock: {
      columns: { sku: 'string', qty: 'integer', price: 'number', seen: 'date', extra: 'json' },
      tracking: 'column',
    },
  },
});

export interface TestServer {
  app: ReturnType<typeof createSyncServer>;
  store: Store;
  schema: Schema;
  filename: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
  register(): Promise<FromServerRegister>;
  /** The secret a replica registered through `register()` was given (push and pull send it for you). */
  secretOf(replicaId: string): string;
  push(replicaId: string, changes: FromReplicaChange[], range?: { from: number; to: number }): Promise<FromServerPush>;
  pull(replicaId: string, after: number, limit?: number): Promise<FromServerPull>;
  conflicts(query?: string): Promise<FromServerConflicts>;
  /** Posts a decision on a logged conflict; the raw response, so refusals can be inspected too. */
  resolve(id: string, body: unknown): Promise<Response>;
  /** Everything the store holds, read straight from the SQLite file: rows, meta, replicas, conflicts. */
  snapshot(): unknown;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<SyncServerOptions> {
  resolvers?: ResolverConfig;
}

/**
 * A sync server on a fresh SQLite file in its own temporary directory, or on `options.store`
 * (then `snapshot()`, which reads the SQLite file, is not available).
 */
export function createTestServer(options: TestServerOptions = {}): TestServer {
  const dir = mkdtempSync(join(tmpdir(), 'concord-test-'));
  const filename = join(dir, 'store.db');
  const schema = options.schema ?? testSchema;
  const store = options.store ?? createSqliteStore({ filename });
  const app = createSyncServer({ log: (e) => console.error(e), ...options, schema, store });
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.request(path, init));
  const post = (path: string, body: unknown) =>
    request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = async <T>(response: Response): Promise<T> => {
    const body = (await response.json()) as T;
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const secrets = new Map<string, string>();
  const secretOf = (replicaId: string) => secrets.get(replicaId) ?? 'not-a-registered-secret';
  return {
    app,
    store,
    schema,
    filename,
    request,
    post,
    register: async () => {
      const registered = await ok<FromServerRegister>(
        await post('/v1/replicas', { protocol: PROTOCOL_VERSION, schemaVersion: schema.version }),
      );
      secrets.set(registered.replicaId, registered.secret);
      return registered;
    },
    secretOf,
    push: async (replicaId, changes, range) => {
      const gens = changes.map((change) => change.localGeneration);
      const body = {
        protocol: PROTOCOL_VERSION,
        schemaVersion: schema.version,
        replicaId,
        secret: secretOf(replicaId),
        fromLocalGeneration: range?.from ?? Math.min(...gens),
        toLocalGeneration: range?.to ?? Math.max(...gens),
        changes,
      };
      return ok(await post('/v1/push', body));
    },
    pull: async (replicaId, after, limit) =>
      ok(
        await post('/v1/pull', {
          protocol: PROTOCOL_VERSION,
          schemaVersion: schema.version,
          replicaId,
          secret: secretOf(replicaId),
          after,
          // The commit the cursor stands on, as a replica keeps it from the page that gave the cursor.
          ...(after > 0 ? { commit: await store.commitAt(after) } : {}),
          ...(limit ? { limit } : {}),
        }),
      ),
    conflicts: async (query = '') => ok(await request(`/v1/conflicts${query}`)),
    resolve: (id, body) => post(`/v1/conflicts/${encodeURIComponent(id)}/resolve`, body),
    snapshot: () => {
      if (options.store) throw new Error('snapshot() reads the SQLite file of a server made without a store');
      const db = new Database(filename, { readonly: true });
      try {
        const all = (table: string, order: string) => db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all();
        return {
          rows: all('rows', 'tbl, rowguid'),
          // The schema version is recorded at startup, while requests may already come.
          meta: all('meta', 'key').filter((record) => !(record as { key: string }).key.startsWith('schema_')),
          replicas: all('replicas', 'replica_id'),
          conflicts: all('conflicts', 'id'),
        };
      } finally {
        db.close();
      }
    },
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An upsert change with sensible defaults. */
export function upsert(
  table: string,
  rowguid: string,
  values: Record<string, unknown>,
  opts: { gen: number; base?: number; baseValues?: Record<string, unknown> },
): FromReplicaChange {
  const change: FromReplicaChange = {
    table,
    rowguid,
    op: 'upsert',
    localGeneration: opts.gen,
    baseGeneration: opts.base ?? 0,
    values: values as FromReplicaChange['values'],
  };
  if (opts.baseValues) change.base = opts.baseValues as FromReplicaChange['values'];
  return change;
}

export function remove(table: string, rowguid: string, opts: { gen: number; base: number }): FromReplicaChange {
  return { table, rowguid, op: 'delete', localGeneration: opts.gen, baseGeneration: opts.base };
}
