import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server';

/**
 * Runs `work` with the URL of a PostgreSQL server able to create databases: the one at
 * CONCORD_POSTGRES_URL when set, otherwise a throwaway server started like the tests' one.
 */
export async function withPostgres<T>(work: (adminUrl: string) => Promise<T>): Promise<T> {
  const given = process.env.CONCORD_POSTGRES_URL;
  const server = given ? undefined : await startPostgres();
  try {
    return await work(given ?? server!.url);
  } finally {
    server?.stop();
  }
}

/** Runs `work` on a fresh database on the server at `adminUrl`, dropped afterwards. */
export async function withDatabase<T>(adminUrl: string, work: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `concord_bench_${randomUUID().replaceAll('-', '')}`;
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      return await work(url.href);
    } finally {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}
