import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server of this test run (its `postgres` database). */
    postgresUrl: string;
  }
}

/** Vitest global setup: one PostgreSQL server for the whole run, stopped at teardown. */
export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
