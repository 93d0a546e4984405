import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach } from 'vitest';
import { openReplica, type Replica } from '@concord/client';
import type { ResolverConfig } from '@concord/server';
import { fuzzSchema } from './fuzz-config';
import { createFuzzServer, type FuzzServer } from './fuzz-server';

/**
 * The world of one restore test file: a server with a backup it can restore, and replicas on it.
 * Registers an `afterEach` that closes every replica and the server, so each test starts anew.
 */
export function restoreWorld() {
  let server: FuzzServer | undefined;
  const open: Replica[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((replica) => replica.close()));
    await server?.close();
    server = undefined;
  });

  let tick = 0;
  let ids = 0;
  /** Starts the server, under the given resolvers (the default `priority()` otherwise). */
  async function start(resolvers?: ResolverConfig) {
    server = await createFuzzServer({
      schema: fuzzSchema,
      resolvers,
      now: () => new Date(Date.UTC(2024, 0, 1) + ++tick * 1000),
      newId: () => `id-${++ids}`,
    });
    return server;
  }

  /** The server of the running test; it must have been started. */
  const serverOf = () => server!;

  /** Opens a replica named `name` on the server, through `fetch`; it is closed after the test. */
  async function openWith(name: string, fetch: typeof globalThis.fetch) {
    const opened = await openReplica({
      schema: fuzzSchema,
      url: 'http://concord.restore',
      fetch,
      indexedDB: new IDBFactory(),
      IDBKeyRange,
      name,
      events: new EventTarget(),
    });
    open.push(opened);
    return opened;
  }

  /** A replica on the server, through a wire that can lose the answer of its next pull and keeps a copy of every push. */
  async function replica(name: string) {
    let losePull = false;
    const pushes: RequestInit[] = [];
    const opened = await openWith(name, async (input, init) => {
      if (losePull && String(input).endsWith('/v1/pull')) {
        losePull = false;
        throw new TypeError('pull lost');
      }
      if (String(input).endsWith('/v1/push')) pushes.push({ ...init });
      return server!.app.request(input as string, init);
    });
    return Object.assign(opened, {
      losePull: () => (losePull = true),
      /** Delivers a copy of its n-th push again, as a network that held it would; the answer goes nowhere. */
      pushAgain: (n: number) => server!.app.request('http://concord.restore/v1/push', pushes[n]!),
    });
  }

  /** The live rows of a table at the server, by rowguid, without their null columns. */
  async function serverRows(table: string) {
    const page = await server!.store.changesSince({ after: 0, limit: 1_000_000 });
    const live = page.rows.filter((row) => row.table === table && !row.deleted);
    return Object.fromEntries(live.map((row) => [row.rowguid, present(row.values)]));
  }

  /** The rows of a table at a replica, by id, without their null columns. */
  async function rowsOf(replica: Replica, table: string) {
    const rows = (await replica.db.table(table).toArray()) as Record<string, unknown>[];
    return Object.fromEntries(rows.map(({ id, ...values }) => [id, present(values)]));
  }

  /** Syncs the replicas in turn, enough times for whatever one sends to reach the others. */
  async function settle(...replicas: Replica[]) {
    for (let pass = 0; pass < 4; pass++) for (const r of replicas) await r.sync();
  }

  return { start, server: serverOf, openWith, replica, serverRows, rowsOf, settle };
}

/** A row's values without its null columns (null and missing are the same). */
const present = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
