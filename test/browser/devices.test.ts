import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { launchChromium } from './support/chromium';
import { note, onServer, status, until, write } from './support/page-helpers';
import { openTab, serverRows, startPageServer, type PageServer } from './support/page-server';

/** Separate browser profiles are separate devices (replicas); the network is switched for real. */

let browser: Browser;
let server: PageServer;
const contexts: BrowserContext[] = [];
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
beforeEach(async () => {
  server = await startPageServer(inject('browserPage'));
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await server?.close();
});
const device = async (query = 'name=device') => {
  const context = await browser.newContext();
  contexts.push(context);
  return { context, page: await openTab(context, server, query) };
};
/** Records every `status.state` a tab's replica passes through, from now on (and after reloads, from then). */
const recordStates = (page: Page) =>
  page.evaluate(() => {
    const seen = [window.concord.replica.status.state];
    window.concord.replica.subscribe((s) => seen.at(-1) !== s.state && seen.push(s.state));
    (window as unknown as { seen: string[] }).seen = seen;
  });
const recordedStates = (page: Page) => page.evaluate(() => (window as unknown as { seen: string[] }).seen);

describe('devices', () => {
  it('a write on device A shows on device B through the realtime poke, without sync() and within two seconds', async () => {
    const a = await device();
    const b = await device();
    await until(async () => (await status(b.page)).lastSyncAt !== null);
    const latencies: number[] = [];
    for (const id of ['n1', 'n2', 'n3']) {
      const start = Date.now();
      await write(a.page, id, `from A (${id})`);
      await until(async () => (await note(b.page, id)) !== undefined, 2_000);
      latencies.push(Date.now() - start);
    }
    console.log(`write on A to row on B: ${latencies.join(', ')} ms (debounce 20 ms)`);
    expect(await note(b.page, 'n3')).toMatchObject({ title: 'from A (n3)' });
  });

  it('offline: the status says so, writes work locally, and sync resumes by itself when the network returns', async () => {
    const a = await device();
    const b = await device();
    await a.context.setOffline(true);
    await until(async () => (await status(a.page)).state === 'offline');
    await write(a.page, 'n1', 'written offline');
    expect(await note(a.page, 'n1')).toMatchObject({ title: 'written offline' });
    await until(async () => (await status(a.page)).pending === 1);
    expect(await onServer(server, 'n1')()).toBe(false);

    await a.context.setOffline(false);
    await until(onServer(server, 'n1'));
    await until(async () => (await note(b.page, 'n1')) !== undefined);
    await until(async () => (await status(a.page)).state === 'idle' && (await status(a.page)).pending === 0);
  });

  it('failed requests with no offline event also show offline, keep the changes, and recover by themselves', async () => {
    const a = await device();
    await a.page.route('**/v1/**', (route) => route.abort('connectionrefused'));
    await write(a.page, 'n1', 'while the server is unreachable');
    await until(async () => (await status(a.page)).state === 'offline' && (await status(a.page)).pending === 1);
    expect((await status(a.page)).error).toMatchObject({ code: 'unavailable' });
    await a.page.unroute('**/v1/**');
    await until(onServer(server, 'n1'));
    await until(async () => (await status(a.page)).pending === 0);
  });

  it('the replica asks for persistent storage and shows the answer', async () => {
    const a = await device();
    await until(async () => (await status(a.page)).persisted !== null);
    const asked = await a.page.evaluate(() => navigator.storage.persisted());
    expect((await status(a.page)).persisted).toBe(asked);
  });

  it('offline with a reload: the page comes back from its service worker with the data, and the edits reach the other device', async () => {
    const a = await device('name=device&sw=1');
    const b = await device();
    await a.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await until(() => a.page.evaluate(() => navigator.serviceWorker.controller !== null));
    await a.context.setOffline(true);
    await write(a.page, 'n1', 'written offline, kept across a reload');
    await a.page.reload();
    await a.page.evaluate(() => window.concord.ready.then(() => undefined));
    await recordStates(a.page);
    expect(await note(a.page, 'n1')).toMatchObject({ title: 'written offline, kept across a reload' });
    await until(async () => (await status(a.page)).state === 'offline');
    expect(await onServer(server, 'n1')()).toBe(false);

    await a.context.setOffline(false);
    await until(async () => (await note(b.page, 'n1')) !== undefined);
    await until(async () => (await status(a.page)).state === 'idle' && (await status(a.page)).pending === 0);
    expect(await recordedStates(a.page)).toEqual(expect.arrayContaining(['offline', 'idle']));
  });

  it('a conflict across devices: both offline edit one field, both reconnect, both show one value and the logged conflict', async () => {
    const a = await device();
    const b = await device();
    await write(a.page, 'n1', 'original');
    await until(async () => (await note(b.page, 'n1')) !== undefined);
    await Promise.all([a.context.setOffline(true), b.context.setOffline(true)]);
    await write(a.page, 'n1', 'edited on A');
    await write(b.page, 'n1', 'edited on B');
    await a.context.setOffline(false);
    await until(
      async () => ((await serverRows(server.store, 'notes')).n1 as { title: string }).title === 'edited on A',
    );
    await b.context.setOffline(false);
    // priority(), equal priorities: the first version to reach the server (A's) stands.
    for (const { page } of [a, b]) {
      await until(async () => (await note(page, 'n1'))?.title === 'edited on A' && (await status(page)).pending === 0);
    }
    for (const { page } of [a, b]) {
      const conflicts = await page.evaluate(() => window.concord.replica.conflicts());
      expect(conflicts).toEqual([
        expect.objectContaining({ rowguid: 'n1', type: 'update-update', losingValues: { title: 'edited on B' } }),
      ]);
    }
  });

  it('a server restart cuts the event stream; the leader reconnects and catches up without sync()', async () => {
    const a = await device();
    const b = await device();
    await until(async () => (await status(b.page)).lastSyncAt !== null);
    await server.stop();
    await server.start();
    await write(a.page, 'n1', 'after the restart');
    await until(async () => (await note(b.page, 'n1')) !== undefined, 10_000);
    expect(await onServer(server, 'n1')()).toBe(true);
  });
});
