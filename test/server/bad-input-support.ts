import { expect } from 'vitest';
import { PROTOCOL_VERSION } from '@concord/shared';
import { upsert, type TestServer, type TestServerOptions } from '../support/test-server';
import { useTestWorld } from '../support/test-world';

export interface Seeded {
  server: TestServer;
  /** The replica that wrote the seeded rows and won the logged conflict. */
  a: string;
  /** The replica whose edit lost the logged conflict. */
  b: string;
}

/** A test world for refused requests: seeded servers, and bodies that would be accepted as they are. */
export function useBadInputWorld() {
  const world = useTestWorld();
  /**
   * A fresh server whose store already holds something worth protecting: two registered replicas,
   * rows written by pushes, a pull watermark, and one logged update-update conflict on `notes`.
   */
  async function seededServer(options: TestServerOptions = {}): Promise<Seeded> {
    const server = world.start(options);
    const a = (await server.register()).replicaId;
    const b = (await server.register()).replicaId;
    await server.push(a, [
      upsert('notes', 'n1', { title: 'first' }, { gen: 1 }),
      upsert('notes', 'n2', { title: 'second', rank: 2 }, { gen: 2 }),
    ]);
    await server.push(a, [
      upsert('notes', 'n1', { title: 'edited by a' }, { gen: 3, base: 1, baseValues: { title: 'first' } }),
    ]);
    // b last saw n1 at generation 1, but a has changed it since: equal priority keeps the server's version.
    const fromB = await server.push(b, [
      upsert('notes', 'n1', { title: 'edited by b' }, { gen: 1, base: 1, baseValues: { title: 'first' } }),
    ]);
    expect(fromB.results[0]).toMatchObject({ outcome: 'conflict', values: { title: 'edited by a' } });
    await server.pull(b, 0);
    const { conflicts } = await server.conflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      type: 'update-update',
      winner: a,
      loser: b,
      winningValues: { title: 'edited by a' },
    });
    return { server, a, b };
  }

  /** A push body that the server would accept. */
  function pushBody(replicaId: string, changes: unknown[] = [upsert('notes', 'n3', { title: 'third' }, { gen: 4 })]) {
    return {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId,
      secret: world.server().secretOf(replicaId),
      fromLocalGeneration: 4,
      toLocalGeneration: 4,
      changes,
    };
  }

  function pullBody(replicaId: string) {
    return {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId,
      secret: world.server().secretOf(replicaId),
      after: 0,
    };
  }

  return { start: (options?: TestServerOptions) => world.start(options), seededServer, pushBody, pullBody };
}

/** The live rows the server holds, keyed `table/rowguid`. */
export async function serverRowsOf(s: TestServer): Promise<Map<string, unknown>> {
  const page = await s.store.changesSince({ after: 0, limit: 1_000_000 });
  return new Map(page.rows.filter((row) => !row.deleted).map((row) => [`${row.table}/${row.rowguid}`, row.values]));
}

export function postRaw(s: TestServer, path: string, body: string, headers: Record<string, string> = {}) {
  return s.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

export interface ErrorJson {
  code: string;
  message: unknown;
  details?: Record<string, unknown>;
}

/** Asserts the response is the JSON error shape with exactly this status and code. */
export async function expectError(response: Response, status: number, code: string): Promise<ErrorJson> {
  const body = (await response.json()) as ErrorJson;
  expect({ status: response.status, code: body.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof body.message).toBe('string');
  expect(body.message).not.toBe('');
  return body;
}

/** Sends a bad request against a seeded store and checks that it is refused and changes nothing. */
export async function expectRefusedWithoutChange(
  seeded: Seeded,
  send: () => Promise<Response>,
  status: number,
  code: string,
): Promise<ErrorJson> {
  const before = seeded.server.snapshot();
  const body = await expectError(await send(), status, code);
  expect(seeded.server.snapshot()).toEqual(before);
  return body;
}
