import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/chromium';
import { countSyncRequests, openTab, serverRows, startPageServer, type PageServer } from './support/page-server';
import { onServer as serverHas, status, until, write } from './support/page-helpers';

/** Several tabs of one replica in real Chromium: Web Locks, BroadcastChannel, IndexedDB. */

let browser: Browser;
let context: BrowserContext;
let server: PageServer;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
beforeEach(async () => {
  server = await startPageServer(inject('browserPage'));
  context = await browser.newContext(); // a fresh profile per test
});
afterEach(async () => {
  await context?.close();
  await server?.close();
});

const onServer = (id: string) => serverHas(server, id);

describe('two tabs of one replica', () => {
  it('only the lock holder syncs; a write in the other tab is uploaded by the leader', async () => {
    const leader = await openTab(context, server);
    const leaderRequests = countSyncRequests(leader);
    const follower = await openTab(context, server);
    const followerRequests = countSyncRequests(follower);
    expect(await status(leader)).toMatchObject({ leader: true });
    expect(await status(follower)).toMatchObject({ leader: false });

    await write(follower, 'n1', 'written in the follower');
    await until(onServer('n1'));
    await until(async () => (await status(follower)).pending === 0);
    await until(async () => leaderRequests.push > 0); // request events reach the test a little late
    expect(followerRequests).toEqual({ push: 0, pull: 0 });
  });

  it('a follower sees the leader’s sync status and can ask it to sync now', async () => {
    const leader = await openTab(context, server, 'name=shared&start=0');
    const follower = await openTab(context, server, 'name=shared&start=0');
    const followerRequests = countSyncRequests(follower);
    await write(follower, 'n1', 'sync me');
    await until(async () => (await status(follower)).pending === 1);
    const report = await follower.evaluate(() => window.concord.replica.sync());
    expect(report).toMatchObject({ uploaded: 1 });
    expect(await serverRows(server.store, 'notes')).toMatchObject({ n1: { title: 'sync me' } });
    await until(async () => (await status(follower)).lastSyncAt !== null);
    expect(await status(follower)).toMatchObject({ leader: false, state: 'idle', pending: 0 });
    expect((await status(leader)).lastSyncAt).toBe((await status(follower)).lastSyncAt);
    expect(followerRequests).toEqual({ push: 0, pull: 0 });
  });

  it('when the leader tab closes, the other tab leads within two seconds and sync goes on', async () => {
    const first = await openTab(context, server);
    const second = await openTab(context, server);
    expect(await status(second)).toMatchObject({ leader: false });
    await first.close();
    const start = Date.now();
    await until(async () => (await status(second)).leader, 2_000);
    console.log(`leadership passed to the next tab in ${Date.now() - start} ms after the leader closed`);
    const requests = countSyncRequests(second);
    await write(second, 'n2', 'after the handover');
    await until(onServer('n2'));
    await until(async () => requests.push > 0);
  });

  it('when the leader tab crashes, the other tab leads and sync goes on', async () => {
    const first = await openTab(context, server);
    const second = await openTab(context, server);
    const cdp = await context.newCDPSession(first);
    const crashed = first.waitForEvent('crash');
    void cdp.send('Page.crash').catch(() => undefined); // never answered: the renderer is gone
    await crashed;
    await until(async () => (await status(second)).leader, 2_000);
    await write(second, 'n3', 'after the crash');
    await until(onServer('n3'));
  });

  it('a follower tab sees rows the leader downloads through a Dexie live query', async () => {
    const leader = await openTab(context, server);
    const follower = await openTab(context, server);
    await follower.evaluate(() => {
      const { Dexie, replica } = window.concord;
      const seen = ((window as unknown as { seen: string[] }).seen = [] as string[]);
      Dexie.liveQuery(() => replica.db.table('notes').toArray()).subscribe((rows) => {
        seen.push(rows.map((row: { title: string }) => row.title).join());
      });
    });
    const other = await browser.newContext();
    try {
      await write(await openTab(other, server, 'name=elsewhere'), 'n1', 'from another device');
      await until(() =>
        follower.evaluate(() => (window as unknown as { seen: string[] }).seen.includes('from another device')),
      );
      expect(await status(leader)).toMatchObject({ leader: true });
    } finally {
      await other.close();
    }
  });
});
