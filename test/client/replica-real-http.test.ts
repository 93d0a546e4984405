import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { expectConverged, shareRow } from '../support/test-replica';
import { useTestWorld } from '../support/test-world';

const world = useTestWorld();
const { replica, cleanup } = world;
const start = () => world.start();

describe('real HTTP on loopback', () => {
  it('two replicas sync through a listening server with global fetch, and a column conflict resolves the same on both', async () => {
    const server = start();
    const http = await new Promise<HttpServer>((resolve) => {
      const listening = serve({ fetch: server.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(listening as HttpServer),
      );
    });
    cleanup(
      () =>
        new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        }),
    );
    const { port } = http.address() as AddressInfo;
    expect(port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${port}`;
    const a = await replica({ url, fetch: globalThis.fetch });
    const b = await replica({ url, fetch: globalThis.fetch });

    await shareRow(a, b, 'stock', { id: 's1', sku: 'S1', qty: 10, price: 2, extra: { bin: 'A' } });
    expect(await b.db.table('stock').get('s1')).toEqual({
      id: 's1',
      sku: 'S1',
      qty: 10,
      price: 2,
      extra: { bin: 'A' },
    });
    await a.db.table('stock').update('s1', { qty: 7, price: 3 });
    await b.db.table('stock').update('s1', { qty: 12, extra: { bin: 'B' } });
    await b.db.table('notes').add({ id: 'n1', title: 'from b' });
    expect(await a.sync()).toMatchObject({ uploaded: 1, conflicts: 0 });
    expect(await b.sync()).toMatchObject({ uploaded: 2, conflicts: 1 });
    await a.sync();

    for (const r of [a, b]) {
      expect(await r.db.table('stock').get('s1')).toEqual({
        id: 's1',
        sku: 'S1',
        qty: 7,
        price: 3,
        extra: { bin: 'B' },
      });
      expect(await r.db.table('notes').get('n1')).toEqual({ id: 'n1', title: 'from b' });
    }
    const log = (await server.conflicts()).conflicts;
    expect(log).toEqual([
      expect.objectContaining({ table: 'stock', rowguid: 's1', columns: ['qty'], winningValues: { qty: 7 } }),
    ]);
    expect((await b.conflicts()).map((entry) => entry.id)).toEqual([log[0]!.id]);
    await expectConverged(server, a, b);
  });
});
