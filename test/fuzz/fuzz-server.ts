import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConflictEntry, Schema } from '@concord/shared';
import {
  createPostgresStore,
  createSqliteStore,
  createSyncServer,
  type AuthOptions,
  type ResolverConfig,
  type Store,
} from '@concord/server';
import { createTestDatabase, dropTestDatabase } from '../support/postgres-database';
import { conflictLog } from './oracle';

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
  /** The server's `limits.maxBodyBytes` (undefined: the default). */
  maxBodyBytes?: number;
  /** How the server verifies callers (undefined: open to anyone). */
  auth?: AuthOptions;
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
  /**
   * Copies the store aside, as an operator's backup: the store is closed (a clean close
   * checkpoints the WAL into the file), its file copied, and a new store opened on it. False
   * where the backend cannot (PostgreSQL).
   */
  backup(): Promise<boolean>;
  /**
   * Puts the last backup back: the store is closed, its WAL and shared-memory files removed, the
   * backup copied over its file, and a new store opened. The conflict entries written since the
   * backup, which the restore loses, are kept in `lostConflicts` (the decisions they record were
   * made). False when there is no backup.
   */
  restore(): Promise<boolean>;
  /** Every conflict entry a restore lost (entry ids are never reused, so this is exact). */
  readonly lostConflicts: ConflictEntry[];
  /** How many restores happened. */
  readonly restores: number;
  /** Runs `work` while no restart, backup or restore can happen. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
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
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.maxBodyBytes ? { limits: { maxBodyBytes: options.maxBodyBytes } } : {}),
    });
    return { store, app };
  };
  let current = open();
  const backupFile = `${filename}.backup`;
  const lostConflicts: ConflictEntry[] = [];
  let restores = 0;
  // Restarts, backups, restores and the harness's own checked deliveries run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };
  const offline = async (work: () => void) => {
    await current.store.close();
    work();
    current = open();
  };
  return {
    get app() {
      return current.app;
    },
    get store() {
      return current.store;
    },
    schema: options.schema,
    errors,
    exclusive,
    restart: () =>
      exclusive(async () => {
        await current.store.close();
        current = open();
      }),
    backup: () =>
      exclusive(async () => {
        if (postgres) return false;
        await offline(() => copyFileSync(filename, backupFile));
        return true;
      }),
    restore: () =>
      exclusive(async () => {
        if (postgres || !existsSync(backupFile)) return false;
        await current.store.close();
        // The log as the closed store left it, less what the backup has too: the entries the restore loses.
        const closed = createSqliteStore({ filename });
        const before = await conflictLog(closed).finally(() => closed.close());
        for (const suffix of ['-wal', '-shm']) rmSync(`${filename}${suffix}`, { force: true });
        copyFileSync(backupFile, filename);
        current = open();
        const kept = new Set((await conflictLog(current.store)).map((entry) => entry.id));
        lostConflicts.push(...before.filter((entry) => !kept.has(entry.id)));
        restores++;
        return true;
      }),
    lostConflicts,
    get restores() {
      return restores;
    },
    async close() {
      await current.store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      if (postgres) await dropTestDatabase(postgres);
    },
  };
}
