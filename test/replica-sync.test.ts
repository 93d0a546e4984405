import { afterEach, describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { createTestServer, type TestServer } from './support/test-server';
import { expectConverged, openTestReplica } from './support/test-replica';

let server: TestServer;
const open: Replica[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((replica) => replica.close()));
  await server?.close();
});
const replica = async (options = {}) => {
  const r = await openTestReplica(server, options);
  open.push(r);
  return r;
};

describe('replica sync', () => {
  it('offline edits queue up and reach another replica after sync', async () => {
    server = createTestServer();
    const a = await replica();
    const b = await replica();
    const id = await a.db.table('notes').add({ title: 'hello', rank: 1 });
    expect(typeof id).toBe('string');
    await a.db.table('notes').update(id, { body: 'world' });
    expect(await a.db.table('_changes').count()).toBe(1);
    expect(await a.sync()).toMatchObject({ uploaded: 1, conflicts: 0, rejected: 0 });
    expect(await b.sync()).toMatchObject({ downloaded: 1 });
    expect(await b.db.table('notes').get(id)).toEqual({ id, title: 'hello', rank: 1, body: 'world' });
    await expectConverged(server, a, b);
  });
});
