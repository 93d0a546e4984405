import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Schema } from '@concord/shared';
import {
  createPostgresStore,
  createSqliteStore,
  createSyncServer,
  type ResolverConfig,
  type Store,
} from '@concord/server';
import { createTestDatabase, dropTestDatabase } from '../support/postgres-database';

/** Where the fuzz server keeps its data: a SQLite file, or a fresh database on the test run's PostgreSQL. */
export type FuzzBackend = 'sqlite' | 'postgres';

export interface FuzzServerOptions {
  schema: Schema;
  resolvers?: ResolverConfig;
  replicaPriority?: () => number;
  now: () => Date;
  newId: () => string;
  /** Wraps every store the server opens (planted defects in the oracle's own tests). */
  wrapStore?: (store: Store) => Store;
  backend?: FuzzBackend;
}

/**
 * A sync server on a SQLite file (or a PostgreSQL database) that can be restarted: `restart()`
 * closes the store and opens a new store and app on the same data. Callers must always go
 * through `app`/`store`, which name the current ones.
 */
export interface FuzzServer {
  readonly app: ReturnType<typeof createSyncServer>;
  readonly store: Store;
  readonly schema: Schema;
  /** Errors the server reported as unexpected (an `internal` error): each one is a finding. */
  readonly errors: unknown[];
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function createFuzzServer(options: FuzzServerOptions): Promise<FuzzServer> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-fuzz-'));
  const filename = join(dir, 'store.db');
  const postgres = options.backend === 'postgres' ? await createTestDatabase() : undefined;
  const errors: unknown[] = [];
  const open = () => {
    const raw = postgres
      ? createPostgresStore({ connectionString: postgres, max: 4 })
      : createSqliteStore({ filename });
    const store = options.wrapStore ? options.wrapStore(raw) : raw;
    const app = createSyncServer({
      schema: options.schema,
      store,
      resolvers: options.resolvers,
      replicaPriority: options.replicaPriority,
      now: options.now,
      newId: options.newId,
      log: (error) => errors.push(error),
    });
    return { store, app };
  };
  let current = open();
  return {
    get app() {
      return current.app;
    },
    get store() {
      return current.store;
    },
    schema: options.schema,
    errors,
    async restart() {
      await current.store.close();
      current = open();
    },
    async close() {
      await current.store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      if (postgres) await dropTestDatabase(postgres);
    },
  };
}
