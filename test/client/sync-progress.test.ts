import { afterEach, describe, expect, it } from 'vitest';
import type { Replica, SyncProgress } from '@concord/client';
import { createTestServer, type TestServer } from '../support/test-server';
import { openTestReplica } from '../support/test-replica';

let server: TestServer;
const open: Replica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  await server?.close();
});

/** Every progress report a replica's status announces, in order. */
function recordProgress(replica: Replica) {
  const seen: (SyncProgress | null)[] = [];
  let last = replica.status.progress;
  replica.subscribe(({ progress }) => {
    if (progress !== last) seen.push(progress);
    last = progress;
  });
  return seen;
}

describe('sync progress', () => {
  it('a long download reports rows applied of a total that ends exact, page by page, then clears', async () => {
    server = createTestServer();
    const a = await openTestReplica(server, { maxUploadChanges: 10 });
    const b = await openTestReplica(server, { maxDownloadChanges: 10 });
    open.push(a, b);
    await a.db.table('notes').bulkAdd(Array.from({ length: 25 }, (_, i) => ({ id: `n${i}`, title: `note ${i}` })));
    const uploads = recordProgress(a);
    await a.sync();
    expect(uploads).toEqual([
      { phase: 'upload', done: 10, total: 25 },
      { phase: 'upload', done: 20, total: 25 },
      { phase: 'upload', done: 25, total: 25 },
      null,
    ]);

    const downloads = recordProgress(b);
    await b.sync();
    expect(downloads).toEqual([
      { phase: 'download', done: 10, total: 25 },
      { phase: 'download', done: 20, total: 25 },
      { phase: 'download', done: 25, total: 25 },
      null,
    ]);
    expect(b.status.progress).toBeNull();
  });
});
