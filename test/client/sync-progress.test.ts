import { describe, expect, it } from 'vitest';
import type { Replica, SyncProgress } from '@concord/client';
import { useTestWorld } from '../support/test-world';

const { start, replica } = useTestWorld();

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
    start();
    const a = await replica({ maxUploadChanges: 10 });
    const b = await replica({ maxDownloadChanges: 10 });
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
