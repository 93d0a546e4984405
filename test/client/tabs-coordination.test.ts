import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Replica, SyncReport } from '@concord/client';
import { createStatus } from '../../client/src/status';
import { coordinateTabs } from '../../client/src/tabs/coordinate-tabs';
import type { Locks } from '../../client/src/tabs/leadership';
import { createTestServer } from '../support/test-server';
import { openTestReplica } from '../support/test-replica';

/**
 * Tab coordination in Node: real BroadcastChannels between "tabs" in one process, and a lock
 * manager that grants one holder at a time in request order, as Web Locks do.
 */
function fakeLocks(): Locks {
  const queues = new Map<string, (() => void)[]>();
  return {
    request(name, callback) {
      const queue = queues.get(name) ?? [];
      queues.set(name, queue);
      return new Promise((resolve, reject) => {
        const run = () =>
          callback({})
            .then(resolve, reject)
            .finally(() => {
              queue.shift();
              queue[0]?.();
            });
        queue.push(run);
        if (queue.length === 1) void run();
      });
    },
  };
}

const report = (uploaded: number): SyncReport => ({
  uploaded,
  downloaded: 0,
  conflicts: 0,
  rejected: 0,
  reinitialized: null,
});
let tabs: ReturnType<typeof coordinateTabs>[] = [];
let ids = 0;
afterEach(() => {
  for (const tab of tabs) tab.close();
  tabs = [];
});

function openTab(locks: Locks, name: string, localSync: () => Promise<SyncReport>) {
  const status = createStatus();
  const tab = coordinateTabs({
    name,
    locks,
    openChannel: (channel) => new BroadcastChannel(channel),
    status,
    localSync,
    background: { start: () => undefined, stop: () => undefined, nudge: () => undefined },
    refresh: () => undefined,
    newId: () => `request-${++ids}`,
    requestTimeoutMs: 10_000,
    crdt: () => undefined,
  });
  tabs.push(tab);
  return { tab, status };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('tab coordination', () => {
  it('a sync asked of a leader that goes away is answered by the next leader', async () => {
    const locks = fakeLocks();
    const name = `tabs-${Date.now()}`;
    const first = openTab(locks, name, () => new Promise<SyncReport>(() => undefined)); // never answers
    const second = openTab(locks, name, async () => report(2));
    const third = openTab(locks, name, async () => report(3));
    await settled();
    expect([first, second, third].map((t) => t.status.get().leader)).toEqual([true, false, false]);

    const asked = third.tab.sync();
    await settled(); // the first tab has taken the request, and hangs on it
    first.tab.close();
    await expect(asked).resolves.toEqual(report(2));
    expect(second.status.get().leader).toBe(true);
  });

  it('a tab that becomes the leader answers its own pending request', async () => {
    const locks = fakeLocks();
    const name = `tabs-${Date.now()}-own`;
    const first = openTab(locks, name, () => new Promise<SyncReport>(() => undefined));
    const second = openTab(locks, name, async () => report(7));
    await settled();
    const asked = second.tab.sync();
    await settled();
    first.tab.close();
    await expect(asked).resolves.toEqual(report(7));
  });

  it('a lock that cannot be had makes the tab sync directly', async () => {
    const refusing: Locks = { request: () => Promise.reject(new DOMException('no locks here', 'SecurityError')) };
    const only = openTab(refusing, `tabs-${Date.now()}-refused`, async () => report(1));
    await settled();
    expect(only.status.get().leader).toBe(true);
    await expect(only.tab.sync()).resolves.toEqual(report(1));
  });

  it('a closing leader finishes its round before the lock passes on: never two tabs syncing', async () => {
    const server = createTestServer();
    const shared = { locks: fakeLocks(), indexedDB: new IDBFactory(), name: `shared-${Date.now()}` };
    const tabsOptions = { ...shared, openChannel: (channel: string) => new BroadcastChannel(channel) };
    let release = () => undefined as void;
    let reached = () => undefined as void;
    const pullReached = new Promise<void>((resolve) => (reached = resolve));
    const pullReleased = new Promise<void>((resolve) => (release = resolve));
    const gated = async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith('/v1/pull')) {
        reached();
        await pullReleased;
      }
      return server.app.request(input as string, init);
    };
    const first = await openTestReplica(server, { ...tabsOptions, fetch: gated });
    const second: Replica = await openTestReplica(server, tabsOptions);
    try {
      await vi.waitFor(() => expect([first.status.leader, second.status.leader]).toEqual([true, false]));
      const round = first.sync();
      await pullReached; // the leader's round is downloading
      const closing = first.close();
      await settled();
      expect(second.status.leader).toBe(false);
      release();
      await round;
      await closing;
      await vi.waitFor(() => expect(second.status.leader).toBe(true));
    } finally {
      release();
      await second.close();
      await server.close();
    }
  });
});
