import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import { openNodeReplica } from '../support/node-replica';
import { expectConverged, recordingFetch, serverRows } from '../support/test-replica';
import * as Y from 'yjs';
import { crdtSchema } from '../support/crdt-schema';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();

const schema = crdtSchema;

const notes = async (replica: Replica, rowguid = 'p1') =>
  (await replica.crdt('products', rowguid, 'notes')).getText('text');
/** Resolves once every edit made so far is in the outbox. */
const persisted = async (replica: Replica, count = 1) => {
  for (let i = 0; i < 100 && (await replica.db.table('_changes').count()) < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('crdt columns on the replica', () => {
  it('two devices edit one note offline, reconnect in either order, and both keep every edit, with nothing logged', async () => {
    for (const first of [0, 1]) {
      const server = world.start({ schema });
      const a = await world.replica({ schema });
      const b = await world.replica({ schema });
      await a.db.table('products').add({ id: 'p1', name: 'Tea' });
      (await notes(a)).insert(0, 'green tea, loose leaf');
      await a.sync();
      await b.sync();
      expect(await b.db.table('products').get('p1')).toEqual({ id: 'p1', name: 'Tea', notes: 'green tea, loose leaf' });
      expect((await notes(b)).toString()).toBe('green tea, loose leaf');

      // Offline, both edit around the same words.
      const textA = await notes(a);
      textA.insert(6, 'jasmine ');
      textA.delete(textA.length - 4, 4);
      const textB = await notes(b);
      textB.delete(0, 5);
      textB.insert(0, 'GREEN');
      textB.insert(textB.length, ', 100 g');
      await persisted(a);
      await persisted(b);
      expect(await a.db.table('_changes').count()).toBe(1);

      const devices = first === 0 ? [a, b] : [b, a];
      for (const device of [...devices, ...devices]) await device.sync();
      const text = (await serverRows(server)).products!.p1!.notes as string;
      expect(text).toContain('jasmine');
      expect(text).toContain('GREEN');
      expect(text).toContain(', 100 g');
      expect(text).not.toContain('leaf');
      for (const device of [a, b]) {
        expect((await notes(device)).toString()).toBe(text); // the open documents took it in
        expect((await device.db.table('products').get('p1')).notes).toBe(text);
      }
      await expectConverged(server, a, b);
      expect((await server.conflicts()).conflicts).toEqual([]);
    }
  });

  it('an edit survives a crash before its upload: the document and the outbox were written together', async () => {
    const server = world.start({ schema });
    const indexedDB = new IDBFactory();
    const open = (options: { log?: () => void } = {}) =>
      openNodeReplica({
        ...options,
        schema,
        name: 'crashing',
        indexedDB,
        fetch: (input, init) => Promise.resolve(server.app.request(input as string, init)),
      });
    const first = await open({ log: () => undefined }); // it crashes: what it still tries fails
    await first.db.table('stock').add({ id: 's1', qty: 3 });
    await first.sync();
    (await first.crdt('stock', 's1', 'log')).getText('text').insert(0, 'counted by Ann');
    await persisted(first);
    // The database goes away mid-way (a closed tab): nothing was uploaded.
    first.db.close();
    const again = world.track(await open());
    expect(again.status.pending).toBe(1);
    expect((await again.crdt('stock', 's1', 'log')).getText('text').toString()).toBe('counted by Ann');
    await again.sync();
    expect((await serverRows(server)).stock).toEqual({ s1: { qty: 3, log: 'counted by Ann' } });
  });

  it('uploads only what the server does not hold, and the whole state again after the server refused a part', async () => {
    const server = world.start({ schema });
    const { fetch, pushes } = recordingFetch(server);
    const a = await world.replica({ schema, fetch });
    await a.db.table('products').add({ id: 'p1', name: 'Tea' });
    const text = await notes(a);
    text.insert(0, 'a long description of the tea. '.repeat(50));
    await persisted(a);
    await a.sync();
    text.insert(0, '!');
    await persisted(a);
    await a.sync();
    const sent = pushes().map((push) => {
      const change = (push.request as { changes: { crdt?: { notes: string } }[] }).changes[0]!;
      return change.crdt?.notes.length ?? 0;
    });
    expect(sent.at(-1)).toBeLessThan(sent.at(-2)! / 20);

    // The replica believes the server holds an edit it never got: the next part is refused,
    // and the whole state goes up with the edit after it.
    text.insert(0, 'lost? ');
    await persisted(a);
    const field = await a.db.table('_crdt').get(['products', 'p1', 'notes']);
    await a.db.table('_crdt').put({ ...field, acked: Y.encodeStateVector(text.doc!) });
    text.insert(0, '> ');
    await persisted(a);
    // The round that met the refusal sends the whole state again, and nothing is lost.
    expect(await a.sync()).toMatchObject({ rejected: 1 });
    expect((await serverRows(server)).products!.p1!.notes).toBe(text.toString());
    text.insert(text.length, '<');
    await persisted(a);
    await a.sync();
    expect((await serverRows(server)).products!.p1!.notes).toBe(text.toString());
    expect(text.toString().startsWith('> lost? !a long')).toBe(true);
  });

  it('refuses an app write that sets a crdt column, and lets the row be written back as it is', async () => {
    world.start({ schema });
    const a = await world.replica({ schema });
    await expect(a.db.table('products').add({ id: 'p1', name: 'Tea', notes: 'typed in' })).rejects.toMatchObject({
      code: 'invalid_value',
    });
    await a.db.table('products').add({ id: 'p1', name: 'Tea' });
    (await notes(a)).insert(0, 'kept');
    await persisted(a);
    await expect(a.db.table('products').update('p1', { notes: 'overwritten' })).rejects.toMatchObject({
      code: 'invalid_value',
    });
    const row = await a.db.table('products').get('p1');
    await a.db.table('products').put({ ...row, name: 'Green tea' });
    expect(await a.db.table('products').get('p1')).toEqual({ id: 'p1', name: 'Green tea', notes: 'kept' });
    await expect(a.crdt('products', 'p1', 'name')).rejects.toMatchObject({ code: 'unknown_column' });
    await a.sync();
    expect(await a.validate()).toMatchObject({ ok: true });
  });
});
