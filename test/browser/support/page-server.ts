import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { BrowserContext, Page } from 'playwright-core';
import { createSqliteStore, createSyncServer, type Store, type SyncServerOptions } from '@concord/server';
import { browserSchema } from '../page/schema';

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the test page at `/`, the sync API at `/v1`. */
  origin: string;
  /** The current store (a new object after `restart`). */
  readonly store: Store;
  /** Stops the HTTP server and closes the store, cutting every connection (event streams too). */
  stop(): Promise<void>;
  /** Starts again on the same port and the same SQLite file; with `schemas`, serving those from now on. */
  start(schemas?: Pick<SyncServerOptions, 'schema' | 'olderSchemas'>): Promise<void>;
  close(): Promise<void>;
}

/** A sync server on a fresh SQLite file and a free loopback port, serving the built test page too. */
export async function startPageServer(pageDir: string): Promise<PageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-browser-'));
  let store: Store | undefined;
  let http: ReturnType<typeof serve> | undefined;
  let port = 0;
  let served: Pick<SyncServerOptions, 'schema' | 'olderSchemas'> = { schema: browserSchema };
  const start = async (schemas = served) => {
    served = schemas;
    const opened = createSqliteStore({ filename: join(dir, 'store.db') });
    const sync = createSyncServer({ ...served, store: opened, realtime: { heartbeatMs: 1_000 } });
    const app = new Hono();
    app.all('/v1/*', (c) => sync.fetch(c.req.raw));
    app.use('/*', serveStatic({ root: pageDir }));
    http = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(started));
    });
    port = (http.address() as AddressInfo).port;
    store = opened;
  };
  const stop = async () => {
    const running = http;
    http = undefined;
    if (running) {
      if ('closeAllConnections' in running) running.closeAllConnections();
      await new Promise((resolve) => running.close(resolve));
    }
    await store?.close();
    store = undefined;
  };
  await start();
  return {
    origin: `http://127.0.0.1:${port}`,
    get store() {
      return store!;
    },
    stop,
    start: (schemas) => start(schemas),
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the test page in a new tab of `context` and waits until its replica is open. */
export async function openTab(context: BrowserContext, server: PageServer, query = 'name=shared'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/?${query}`);
  await page.evaluate(() => window.concord.ready.then(() => undefined));
  return page;
}

/** Counts the push and pull requests a tab sends. */
export function countSyncRequests(page: Page) {
  const counts = { push: 0, pull: 0 };
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path === '/v1/push') counts.push++;
    if (path === '/v1/pull') counts.pull++;
  });
  return counts;
}

/** The live rows of a table as the server holds them, by rowguid. */
export async function serverRows(store: Store, table: string): Promise<Record<string, unknown>> {
  const { rows } = await store.changesSince({ after: 0, limit: 100_000 });
  return Object.fromEntries(rows.filter((r) => r.table === table && !r.deleted).map((r) => [r.rowguid, r.values]));
}
