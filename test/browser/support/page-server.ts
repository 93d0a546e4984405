import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { BrowserContext, Page } from 'playwright-core';
import { createSqliteStore, createSyncServer, type Store } from '@concord/server';
import { browserSchema } from '../page/schema';

export interface PageServer {
  /** `http://127.0.0.1:<port>`: the test page at `/`, the sync API at `/v1`. */
  origin: string;
  store: Store;
  close(): Promise<void>;
}

/** A sync server on a fresh SQLite file and a free loopback port, serving the built test page too. */
export async function startPageServer(pageDir: string): Promise<PageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-browser-'));
  const store = createSqliteStore({ filename: join(dir, 'store.db') });
  const sync = createSyncServer({ schema: browserSchema, store, realtime: { heartbeatMs: 1_000 } });
  const app = new Hono();
  app.all('/v1/*', (c) => sync.fetch(c.req.raw));
  app.use('/*', serveStatic({ root: pageDir }));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    store,
    async close() {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
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
  const { rows } = await store.changesSince(0, 100_000);
  return Object.fromEntries(rows.filter((r) => r.table === table && !r.deleted).map((r) => [r.rowguid, r.values]));
}
