import { afterEach, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { createPostgresStore, type Store } from '@concord/server';
import { createTestDatabase } from '../support/postgres-database';
import { commitRows, note } from './store-fixtures';

describe('PostgreSQL store: the LISTEN connection', () => {
  const stores: Store[] = [];
  afterEach(() => Promise.all(stores.splice(0).map((store) => store.close())));

  it('is replaced when the database ends it, and commits are heard again', async () => {
    const connectionString = await createTestDatabase();
    const [writer, listener] = [0, 1].map(() => createPostgresStore({ connectionString })) as [Store, Store];
    stores.push(writer, listener);
    await Promise.all([writer.meta(), listener.meta()]);
    const heard: number[] = [];
    listener.onCommit((generation) => heard.push(generation));

    const admin = new pg.Client({ connectionString });
    await admin.connect();
    try {
      const ended = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`,
      );
      expect(ended.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    // Commits made before the new LISTEN is active are not heard; keep committing until one is.
    let n = 0;
    await vi.waitFor(
      async () => {
        await commitRows(writer, [note(`n${++n}`)]);
        expect(heard.length).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );
    expect(heard.every((generation) => generation >= 1 && generation <= n)).toBe(true);
  });
});
