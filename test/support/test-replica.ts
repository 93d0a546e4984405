import { expect } from 'vitest';
import type { Replica } from '@concord/client';
import { openNodeReplica, type NodeReplicaOptions } from './node-replica';
import type { TestServer } from './test-server';

/** What `openNodeReplica` takes; the schema and `fetch` default to the test server's. */
export type TestReplicaOptions = Partial<NodeReplicaOptions>;

/** A replica in Node on fake-indexeddb, talking to the test server through `app.request` unless `fetch` is given. */
export async function openTestReplica(server: TestServer, options: TestReplicaOptions = {}): Promise<Replica> {
  return openNodeReplica({
    schema: server.schema,
    fetch: (input, init) => Promise.resolve(server.app.request(input as string, init)),
    ...options,
  });
}

type Rows = Record<string, Record<string, Record<string, unknown>>>;

/** The live rows of every table, as the server holds them: table → rowguid → values. */
export async function serverRows(server: TestServer): Promise<Rows> {
  const rows: Rows = Object.fromEntries(server.schema.tableNames.map((name) => [name, {}]));
  const page = await server.store.changesSince({ after: 0, limit: 1_000_000 });
  for (const row of page.rows) if (!row.deleted) rows[row.table]![row.rowguid] = normalize(row.values);
  return rows;
}

/** The rows of every replicated table in a replica, keyed like `serverRows`. */
export async function replicaRows(replica: Replica, server: TestServer): Promise<Rows> {
  const rows: Rows = {};
  for (const table of Object.values(server.schema.tables)) {
    rows[table.name] = {};
    for (const row of await replica.db.table(table.name).toArray()) {
      const { [table.key]: rowguid, ...values } = row as Record<string, unknown>;
      rows[table.name]![rowguid as string] = normalize(values);
    }
  }
  return rows;
}

/** Asserts that every replica holds exactly the server's rows, table by table, with an empty outbox. */
export async function expectConverged(server: TestServer, ...replicas: Replica[]): Promise<void> {
  const expected = await serverRows(server);
  for (const replica of replicas) {
    expect(await replicaRows(replica, server)).toEqual(expected);
    expect(await replica.db.table('_changes').count()).toBe(0);
  }
}

/** A replica's `_state` records as one object: key → value. */
export async function replicaState(replica: Replica): Promise<Record<string, unknown>> {
  const records = (await replica.db.table('_state').toArray()) as { key: string; value: unknown }[];
  return Object.fromEntries(records.map((record) => [record.key, record.value]));
}

/** Creates a row on the first replica and syncs it to the other, so later edits start from one base. */
export async function shareRow(
  first: Replica,
  other: Replica,
  table: string,
  row: Record<string, unknown>,
): Promise<void> {
  await first.db.table(table).add(row);
  await first.sync();
  await other.sync();
}

/** Missing and null columns are the same value. */
function normalize(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}

export interface Exchange {
  path: string;
  request: unknown;
  response: unknown;
  status: number;
}

/** A fetch to the test server that records every request and response body. */
export function recordingFetch(server: TestServer) {
  const exchanges: Exchange[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const response = await server.app.request(input as string, init);
    const text = await response.text();
    exchanges.push({
      path: new URL(input as string).pathname,
      request: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      response: JSON.parse(text),
      status: response.status,
    });
    return new Response(text, { status: response.status, headers: response.headers });
  };
  return { fetch, exchanges, pushes: () => exchanges.filter((exchange) => exchange.path === '/v1/push') };
}
