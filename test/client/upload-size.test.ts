import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/test-world';
import type { OutboxEntry } from '@concord/client';
import type { FromReplicaPushInput } from '@concord/shared';
import { expectConverged, recordingFetch, serverRows } from '../support/test-replica';

const { start, replica } = useTestWorld();

const LIMIT = 64 * 1024;
const text = (kilobytes: number, seed = 'x') => seed.repeat(kilobytes * 1024);

describe('uploads are cut by bytes as well as by count', () => {
  it('1,000 rows of 9 KB (more than the default 8 MiB) go up in pushes under the body limit, and every row arrives', async () => {
    const server = start();
    const wire = recordingFetch(server);
    const a = await replica({ fetch: wire.fetch });
    await a.sync(); // registered: the replica knows the server's limit
    await a.db.table('notes').bulkPut(
      Array.from({ length: 1_000 }, (_, i) => ({
        id: `n${String(i).padStart(4, '0')}`,
        body: text(9, String(i % 10)),
      })),
    );
    await a.sync();
    const pushes = wire.pushes();
    expect(pushes.every((push) => push.status === 200)).toBe(true);
    expect(pushes.every((push) => JSON.stringify(push.request).length <= 8 * 1024 * 1024)).toBe(true);
    expect(pushes.length).toBe(2);
    await expectConverged(server, a);
    expect(Object.keys((await serverRows(server)).notes!)).toHaveLength(1_000);
  });

  it('one transaction larger than a push is split into several local generations, none of them split', async () => {
    const server = start({ limits: { maxBodyBytes: LIMIT } });
    const wire = recordingFetch(server);
    const a = await replica({ fetch: wire.fetch });
    await a.sync();
    await a.db.transaction('rw', a.db.table('notes'), async () => {
      for (let i = 0; i < 20; i++) await a.db.table('notes').put({ id: `t${i}`, body: text(9) });
    });
    await a.sync();
    const pushes = wire.pushes().filter((push) => (push.request as FromReplicaPushInput).changes.length > 0);
    expect(pushes.length).toBeGreaterThan(2);
    const ranges = pushes.map((push) => push.request as FromReplicaPushInput);
    // Each push starts right after the previous one: no local generation is in two pushes.
    for (let i = 1; i < ranges.length; i++)
      expect(ranges[i]!.fromLocalGeneration).toBe(ranges[i - 1]!.toLocalGeneration + 1);
    await expectConverged(server, a);
  });

  it('the server’s maxPushChanges caps a batch even when the replica allows more', async () => {
    const server = start({ limits: { maxPushChanges: 7 } });
    const wire = recordingFetch(server);
    const a = await replica({ fetch: wire.fetch });
    await a.sync();
    await a.db.table('notes').bulkPut(Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, title: `${i}` })));
    await a.sync();
    expect(wire.pushes().every((push) => push.status === 200)).toBe(true);
    expect(Math.max(...wire.pushes().map((push) => (push.request as FromReplicaPushInput).changes.length))).toBe(7);
    await expectConverged(server, a);
  });
});

describe('a change too large for any push', () => {
  it('is refused at the local write with payload_too_large, and nothing is written', async () => {
    start({ limits: { maxBodyBytes: LIMIT } });
    const a = await replica();
    await a.sync();
    await expect(a.db.table('notes').put({ id: 'big', body: text(70) })).rejects.toMatchObject({
      code: 'payload_too_large',
      details: { table: 'notes', rowguid: 'big' },
    });
    expect(await a.db.table('notes').count()).toBe(0);
    expect(await a.db.table('_changes').count()).toBe(0);
  });

  it('counts the values it replaces: an edit of a large value to another large value is refused', async () => {
    start({ limits: { maxBodyBytes: LIMIT } });
    const a = await replica();
    await a.sync();
    await a.db.table('notes').put({ id: 'n1', body: text(40, 'a') });
    await a.sync();
    await expect(a.db.table('notes').put({ id: 'n1', body: text(40, 'b') })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(await a.db.table('notes').get('n1')).toEqual({ id: 'n1', body: text(40, 'a') });
  });

  it('written before the replica learnt a lower limit, it stays pending without blocking the changes behind it', async () => {
    const server = start({ limits: { maxBodyBytes: LIMIT } });
    const b = await replica();
    const a = await replica();
    // Offline and unregistered, the replica assumes the default 8 MiB limit.
    await a.db.table('notes').put({ id: 'early', title: 'small' });
    await a.db.table('notes').put({ id: 'big', body: text(100) });
    await a.db.table('notes').put({ id: 'late', title: 'small too' });
    await expect(a.sync()).rejects.toMatchObject({
      code: 'payload_too_large',
      details: { changes: [{ rowguid: 'big' }] },
    });
    expect(a.status.error?.code).toBe('payload_too_large');
    expect(Object.keys((await serverRows(server)).notes!).sort()).toEqual(['early', 'late']);
    expect((await a.db.table<OutboxEntry>('_changes').toArray()).map((entry) => entry.rowguid)).toEqual(['big']);
    // Edited smaller, it goes up with the next round.
    await a.db.table('notes').put({ id: 'big', body: text(10) });
    await a.sync();
    expect(a.status.error).toBeNull();
    await b.sync();
    await expectConverged(server, a, b);
  });
});
