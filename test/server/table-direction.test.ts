import { describe, expect, it } from 'vitest';
import type { RowValues } from '@concord/shared';
import { remove, upsert, type TestServer } from '../support/test-server';
import { useResolverWorld } from './resolver-support';

const { open } = useResolverWorld();

describe('table direction', () => {
  /** A row written by the server itself, as a download-only table's rows are. */
  async function serverWrite(server: TestServer, table: string, rowguid: string, values: RowValues) {
    return server.store.transaction(async (tx) => {
      const generation = await tx.allocateGenerations(1);
      await tx.writeRows([{ table, rowguid, values, deleted: false, generation, writer: 'server', priority: 100 }]);
      return generation;
    });
  }

  it('download-only: every upload is rejected, logged as a failed change, and answered with the row as it stands', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const generation = await serverWrite(server, 'rates', 'eur', { amount: 1.08 });
    const pulled = await server.pull(a, 0);
    expect(pulled.changes).toEqual([
      { table: 'rates', rowguid: 'eur', generation, deleted: false, values: { amount: 1.08 } },
    ]);
    const rowsBefore = (server.snapshot() as { rows: unknown }).rows;

    const pushed = await server.push(a, [
      upsert('rates', 'eur', { amount: 2 }, { gen: 1, base: generation }),
      upsert('rates', 'usd', { amount: 1 }, { gen: 2 }),
      remove('rates', 'chf', { gen: 3, base: 0 }),
    ]);
    expect(pushed.acknowledged).toBe(3);
    const reason = 'table "rates" is download-only: the server refuses uploads to it';
    expect(pushed.results).toEqual([
      expect.objectContaining({
        rowguid: 'eur',
        outcome: 'rejected',
        deleted: false,
        values: { amount: 1.08 },
        generation,
        reason,
      }),
      expect.objectContaining({ rowguid: 'usd', outcome: 'rejected', deleted: true, values: null, reason }),
      expect.objectContaining({ rowguid: 'chf', outcome: 'rejected', deleted: true, values: null, reason }),
    ]);
    expect((server.snapshot() as { rows: unknown }).rows).toEqual(rowsBefore);
    const { conflicts } = await server.conflicts();
    expect(conflicts).toHaveLength(3);
    expect(conflicts[0]).toMatchObject({
      type: 'failed-change',
      resolver: 'download-only',
      status: 'resolved',
      rowguid: 'eur',
      winner: 'server',
      loser: a,
      winningValues: { amount: 1.08 },
      losingValues: { amount: 2 },
      reason,
    });
    expect(pushed.results.map((result) => result.conflictId)).toEqual(conflicts.map((entry) => entry.id));
  });

  it('upload-only: uploads are accepted and kept, and pulls never return the table, page by page', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const changes = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? upsert('tasks', `t${i}`, { title: `task ${i}` }, { gen: i + 1 })
        : upsert('audit', `e${i}`, { message: `event ${i}` }, { gen: i + 1 }),
    );
    // One push per change, so pages of two rows hold whole transactions.
    for (const change of changes) {
      const pushed = await server.push(a, [change]);
      expect(pushed.results.every((result) => result.outcome === 'applied')).toBe(true);
    }

    const seen: string[] = [];
    let cursor = 0;
    for (let more = true; more;) {
      const page = await server.pull(b, cursor, 2);
      expect(page.changes.length).toBeLessThanOrEqual(2);
      seen.push(...page.changes.map((change) => `${change.table}/${change.rowguid}`));
      cursor = page.cursor;
      more = page.more;
    }
    expect(seen).toEqual(['tasks/t0', 'tasks/t3', 'tasks/t6', 'tasks/t9']);
    expect(cursor).toBe(12);
    const kept = (await server.store.changesSince({ after: 0, limit: 100 })).rows.filter(
      (row) => row.table === 'audit',
    );
    expect(kept).toHaveLength(8);
  });

  it('upload-only: a delete is accepted and not sent down either', async () => {
    const server = open();
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    const [created] = (await server.push(a, [upsert('audit', 'e1', { message: 'x' }, { gen: 1 })])).results;
    const deleted = await server.push(a, [remove('audit', 'e1', { gen: 2, base: created!.generation })]);
    expect(deleted.results[0]).toMatchObject({ outcome: 'applied', deleted: true });
    expect(await server.pull(b, 0)).toMatchObject({ changes: [], cursor: 2, more: false });
  });
});
