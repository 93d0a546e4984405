import { afterEach } from 'vitest';
import type { Replica } from '@concord/client';
import type { StoreKind, StoreLocation } from '../store/store-fixtures';
import { createTestServer, type TestServer, type TestServerOptions } from './test-server';
import { openTestReplica, type TestReplicaOptions } from './test-replica';

type Cleanup = () => unknown;

/**
 * The servers, replicas and other resources a test opens, all released after each test in this
 * order: replicas close, then extra cleanups run (last registered first), then servers close, then
 * store locations are disposed, since a location must outlive the server whose store it holds.
 */
export function useTestWorld() {
  const servers: TestServer[] = [];
  const replicas: Replica[] = [];
  const cleanups: Cleanup[] = [];
  const locations: StoreLocation[] = [];
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(servers.splice(0).map((server) => server.close()));
    for (const location of locations.splice(0)) await location.dispose();
  });
  const server = (): TestServer => {
    const current = servers.at(-1);
    if (!current) throw new Error('start() a server first');
    return current;
  };
  const track = (replica: Replica): Replica => {
    replicas.push(replica);
    return replica;
  };
  return {
    /**
     * A fresh server for this test; it becomes `server()`. Every server started is closed after the
     * test, and closing one early is fine: a second close does nothing.
     */
    start(options?: TestServerOptions): TestServer {
      const created = createTestServer(options);
      let closing: Promise<void> | undefined;
      const started: TestServer = { ...created, close: () => (closing ??= created.close()) };
      servers.push(started);
      return started;
    },
    /** The server this test started last. */
    server,
    /** A replica of `server()`, closed after the test. */
    async replica(options: TestReplicaOptions = {}): Promise<Replica> {
      return track(await openTestReplica(server(), options));
    },
    /** Closes a replica opened some other way after the test, with the world's own. */
    track,
    /** Runs `cleanup` after the test, once the replicas are closed and before the servers close. */
    cleanup(cleanup: Cleanup): void {
      cleanups.push(cleanup);
    },
    /** A fresh, empty database of `kind`, disposed after the test once the servers are closed. */
    async location(kind: StoreKind): Promise<StoreLocation> {
      const location = await kind.create();
      locations.push(location);
      return location;
    },
  };
}
