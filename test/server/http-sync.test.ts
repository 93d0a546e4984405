import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@concord/shared';
import { remove, upsert } from '../support/test-server';
import { expectConverged, recordingFetch } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const { start, replica } = useTestWorld();

describe('push and pull over HTTP', () => {
  it('a pushed change reaches another replica through pull, and the pusher is not sent its own write', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    const pushed = await server.push(a.replicaId, [
      upsert('notes', 'n1', { title: 'hello', pinned: true }, { gen: 1 }),
    ]);
    expect(pushed.acknowledged).toBe(1);
    expect(pushed.results).toEqual([
      { table: 'notes', rowguid: 'n1', outcome: 'applied', generation: 1, deleted: false },
    ]);

    const pulledByB = await server.pull(b.replicaId, 0);
    expect(pulledByB.changes).toEqual([
      { table: 'notes', rowguid: 'n1', generation: 1, deleted: false, values: { title: 'hello', pinned: true } },
    ]);
    expect(pulledByB).toMatchObject({ cursor: 1, more: false, epoch: a.epoch });

    const pulledByA = await server.pull(a.replicaId, 0);
    expect(pulledByA.changes).toEqual([]);
    expect(pulledByA.cursor).toBe(1);
  });

  it('changes may leave out op, baseGeneration and localGeneration: upsert, 0 and the push’s last generation', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    await server.push(b.replicaId, [upsert('notes', 'n2', { title: 'from b' }, { gen: 1 })]);
    const push = (changes: unknown[], from: number, to: number) =>
      server.post('/v1/push', {
        protocol: PROTOCOL_VERSION,
        schemaVersion: 1,
        replicaId: a.replicaId,
        secret: a.secret,
        fromLocalGeneration: from,
        toLocalGeneration: to,
        changes,
      });
    const response = await push(
      [
        { table: 'notes', rowguid: 'n1', values: { title: 'new' } },
        { table: 'notes', rowguid: 'n2', localGeneration: 3, values: { title: 'from a' } },
      ],
      1,
      4,
    );
    expect(response.status).toBe(200);
    const pushed = (await response.json()) as { acknowledged: number; results: { outcome: string }[] };
    expect(pushed.acknowledged).toBe(4);
    // n2 went up from base 0 over B's row: an insert–insert conflict, logged at its own generation.
    expect(pushed.results.map((result) => result.outcome)).toEqual(['applied', 'conflict']);
    expect((await server.conflicts()).conflicts).toMatchObject([
      { rowguid: 'n2', type: 'insert-insert', localGeneration: 3 },
    ]);
    // A replay of generation 4 is a duplicate: the defaulted change counts as generation 4.
    const replay = await push([{ table: 'notes', rowguid: 'n1', values: { title: 'new' } }], 4, 4);
    expect(((await replay.json()) as { results: { outcome: string }[] }).results[0]!.outcome).toBe('duplicate');
    const pulled = await server.pull(b.replicaId, 1);
    expect(pulled.changes).toEqual([
      { table: 'notes', rowguid: 'n1', generation: 2, deleted: false, values: { title: 'new' } },
    ]);
  });

  it('tombstones are downloaded', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'x' }, { gen: 1 })]);
    await server.push(a.replicaId, [remove('notes', 'n1', { gen: 2, base: 1 })]);
    const pulled = await server.pull(b.replicaId, 0);
    expect(pulled.changes).toEqual([{ table: 'notes', rowguid: 'n1', generation: 2, deleted: true, values: null }]);
  });

  it('a replayed push is acknowledged and changes nothing', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    await server.push(b.replicaId, [upsert('notes', 'n2', { title: 'from b' }, { gen: 1 })]);
    const changes = [
      upsert('notes', 'n1', { title: 'one' }, { gen: 1 }),
      upsert('notes', 'n2', { title: 'conflicting' }, { gen: 2 }),
    ];
    const first = await server.push(a.replicaId, changes);
    expect(first.results.map((r) => r.outcome)).toEqual(['applied', 'conflict']);
    const before = server.snapshot();

    const replay = await server.push(a.replicaId, changes);
    expect(replay.acknowledged).toBe(2);
    expect(replay.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(replay.results[0]).toMatchObject({ generation: first.results[0]!.generation, values: { title: 'one' } });
    expect(replay.results[1]).toMatchObject({ values: { title: 'from b' } });
    expect(server.snapshot()).toEqual(before);
  });

  it('a retry that carries already-applied and new changes applies only the new ones', async () => {
    const server = start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'one' }, { gen: 1 })]);
    const retry = await server.push(a.replicaId, [
      upsert('notes', 'n1', { title: 'one' }, { gen: 1 }),
      upsert('notes', 'n2', { title: 'two' }, { gen: 2 }),
    ]);
    expect(retry.results.map((r) => r.outcome)).toEqual(['duplicate', 'applied']);
    const { changes } = await server.pull((await server.register()).replicaId, 0);
    expect(changes.map((c) => [c.rowguid, c.generation])).toEqual([
      ['n1', 1],
      ['n2', 2],
    ]);
  });

  it('pull paging returns every change exactly once across pages', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    const rows = Array.from({ length: 95 }, (_, i) =>
      upsert('notes', `n${String(i).padStart(3, '0')}`, { rank: i }, { gen: i + 1 }),
    );
    for (let i = 0; i < rows.length; i += 20) await server.push(a.replicaId, rows.slice(i, i + 20));
    await server.push(a.replicaId, [upsert('notes', 'n000', { rank: 1000 }, { gen: 96, base: 1 })]);

    const seen: string[] = [];
    let cursor = 0;
    let pages = 0;
    for (let more = true; more; pages++) {
      const page = await server.pull(b.replicaId, cursor, 10);
      seen.push(...page.changes.map((c) => c.rowguid));
      expect(page.changes.every((c) => c.generation > cursor && c.generation <= page.cursor)).toBe(true);
      cursor = page.cursor;
      more = page.more;
    }
    expect(pages).toBe(6); // a page of 10 rows goes on to the end of its push: 19, 20, 20, 20, 15 and 1 rows
    expect(seen).toHaveLength(95);
    expect(new Set(seen).size).toBe(95);
    expect(seen.at(-1)).toBe('n000');
    expect((await server.pull(b.replicaId, cursor)).changes).toEqual([]);
  });

  it('column-tracked rows merge edits to different columns from two replicas', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    const [created] = (
      await server.push(a.replicaId, [upsert('stock', 's1', { sku: 'S1', qty: 1, price: 2 }, { gen: 1 })])
    ).results;
    await server.push(a.replicaId, [upsert('stock', 's1', { qty: 5 }, { gen: 2, base: created!.generation })]);
    const fromB = await server.push(b.replicaId, [
      upsert('stock', 's1', { price: 3.5 }, { gen: 1, base: created!.generation }),
    ]);
    expect(fromB.results[0]).toMatchObject({ outcome: 'merged', values: { sku: 'S1', qty: 5, price: 3.5 } });
    expect((await server.conflicts()).conflicts).toEqual([]);
  });

  it('the conflict list route returns the logged conflicts, filterable by status and table', async () => {
    const server = start();
    const a = await server.register();
    const b = await server.register();
    await server.push(a.replicaId, [
      upsert('notes', 'n1', { title: 'a' }, { gen: 1 }),
      upsert('stock', 's1', { qty: 1 }, { gen: 1 }),
    ]);
    const pushed = await server.push(b.replicaId, [
      upsert('notes', 'n1', { title: 'b' }, { gen: 1 }),
      upsert('stock', 's1', { qty: 2 }, { gen: 1 }),
    ]);
    expect(pushed.results.map((r) => r.outcome)).toEqual(['conflict', 'conflict']);

    const { conflicts } = await server.conflicts();
    expect(conflicts).toHaveLength(2);
    expect(conflicts[0]).toMatchObject({
      id: pushed.results[0]!.conflictId,
      table: 'notes',
      rowguid: 'n1',
      type: 'insert-insert',
      resolver: 'priority',
      status: 'resolved',
      winner: a.replicaId,
      loser: b.replicaId,
      winningValues: { title: 'a' },
      losingValues: { title: 'b' },
      replicaId: b.replicaId,
      localGeneration: 1,
    });
    expect((await server.conflicts('?table=stock')).conflicts.map((c) => c.rowguid)).toEqual(['s1']);
    expect((await server.conflicts('?status=open')).conflicts).toEqual([]);
    expect((await server.conflicts(`?after=${conflicts[0]!.id}`)).conflicts.map((c) => c.id)).toEqual([
      conflicts[1]!.id,
    ]);
  });

  it('health reports the protocol, schema version, epoch, generation and limits', async () => {
    const server = start();
    const a = await server.register();
    await server.push(a.replicaId, [upsert('notes', 'n1', { title: 'a' }, { gen: 1 })]);
    const health = await (await server.request('/v1/health')).json();
    expect(health).toEqual({
      ok: true,
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      schemaVersions: [1],
      epoch: a.epoch,
      generation: 1,
      limits: { maxBodyBytes: 8 * 1024 * 1024, maxPushChanges: 5_000, maxPullChanges: 5_000 },
    });
  });
});

describe('pull pages are bounded, and whole', () => {
  it('a page of large rows stops at maxPullBytes, and a row larger than that comes alone', async () => {
    const server = start({ limits: { maxPullBytes: 25_000 } });
    const a = await server.register();
    const b = await server.register();
    const body = (kilobytes: number) => 'x'.repeat(kilobytes * 1000);
    const sizes = [10, 10, 10, 60, 10];
    for (const [i, kilobytes] of sizes.entries()) {
      await server.push(a.replicaId, [upsert('notes', `n${i}`, { body: body(kilobytes) }, { gen: i + 1 })]);
    }
    const pages: string[][] = [];
    for (let cursor = 0, more = true; more;) {
      const page = await server.pull(b.replicaId, cursor, 100);
      pages.push(page.changes.map((change) => change.rowguid));
      [cursor, more] = [page.cursor, page.more];
    }
    expect(pages).toEqual([['n0', 'n1', 'n2'], ['n3'], ['n4']]);
  });

  it('one replica’s transaction reaches another replica whole, in one page, however small the pages', async () => {
    const server = start();
    const a = await replica();
    const wire = recordingFetch(server);
    const b = await replica({ fetch: wire.fetch, maxDownloadChanges: 10 });
    await a.db.table('notes').bulkPut([{ id: 'before', title: 'x' }]);
    await a.sync();
    await a.db.transaction('rw', a.db.table('notes'), async () => {
      for (let i = 0; i < 30; i++) await a.db.table('notes').put({ id: `t${i}`, title: `${i}` });
    });
    await a.sync();
    await b.sync();
    const pages = wire.exchanges
      .filter((exchange) => exchange.path === '/v1/pull')
      .map((exchange) => (exchange.response as { changes: { rowguid: string }[] }).changes.map((c) => c.rowguid));
    expect(pages[0]).toHaveLength(31);
    await expectConverged(server, a, b);
  });
});
