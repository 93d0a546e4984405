import { describe, expect, it } from 'vitest';
import { browserSchema, browserSchemaV2 } from './page/schema';
import { openTab, serverRows } from './support/page-server';
import { useBrowserPage } from './support/use-browser-page';

const chromium = useBrowserPage();

describe('a new app version with pending edits', () => {
  it('a v1 page keeps syncing with a v2 server, and reloaded as v2 upgrades its database with the outbox mapped', async () => {
    const { server, context } = chromium;
    const page = await openTab(context, server, 'name=evolving&start=0');
    await page.evaluate(async () => {
      const replica = window.concord.replica;
      await replica.db.table('notes').bulkAdd([
        { id: 'n1', title: 'one', body: 'first' },
        { id: 'n2', title: 'two', body: 'second' },
      ]);
      await replica.sync();
    });

    // The server is deployed with v2, still serving v1.
    await server.stop();
    await server.start({ schema: browserSchemaV2, olderSchemas: [browserSchema] });

    // The v1 page keeps working: a new row syncs, and an edit to the renamed column stays pending.
    const v1 = await page.evaluate(async () => {
      const replica = window.concord.replica;
      await replica.db.table('notes').add({ id: 'n3', title: 'three' });
      const report = await replica.sync();
      await replica.db.table('notes').update('n1', { title: 'one, edited before the reload' });
      await replica.db.table('notes').update('n2', { body: 'second, edited too' });
      return { report, pending: await replica.db.table('_changes').count() };
    });
    expect(v1.report).toMatchObject({ uploaded: 1, rejected: 0 });
    expect(v1.pending).toBe(2);
    expect(await serverRows(server.store, 'notes')).toMatchObject({ n3: { heading: 'three' } });

    // Reloaded with the new app version: the database upgrades, the outbox with it.
    await page.goto(`${server.origin}/?name=evolving&start=0&schema=2`);
    const v2 = await page.evaluate(async () => {
      const replica = await window.concord.ready;
      const before = {
        pending: replica.status.pending,
        n1: await replica.db.table('notes').get('n1'),
        outbox: await replica.db.table('_changes').toArray(),
      };
      const report = await replica.sync();
      return {
        before,
        report,
        rows: await replica.db.table('notes').orderBy('id').toArray(),
        validation: await replica.validate(),
      };
    });
    expect(v2.before.pending).toBe(2);
    expect(v2.before.n1).toEqual({ id: 'n1', heading: 'one, edited before the reload', body: 'first' });
    expect(v2.before.outbox.map((entry: { columns: string[] }) => entry.columns)).toEqual([['heading'], ['body']]);
    expect(v2.report).toMatchObject({ rejected: 0, conflicts: 0 });
    expect(await serverRows(server.store, 'notes')).toEqual({
      n1: { heading: 'one, edited before the reload', body: 'first' },
      n2: { heading: 'two', body: 'second, edited too' },
      n3: { heading: 'three' },
    });
    expect(v2.rows).toEqual([
      { id: 'n1', heading: 'one, edited before the reload', body: 'first' },
      { id: 'n2', heading: 'two', body: 'second, edited too' },
      { id: 'n3', heading: 'three' },
    ]);
    expect(v2.validation).toMatchObject({ ok: true });
  });
});
