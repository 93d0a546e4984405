import { afterEach } from 'vitest';
import type { Replica } from '@concord/client';
import { createTestServer, type TestServer, type TestServerOptions } from './test-server';
import { openTestReplica, type TestReplicaOptions } from './test-replica';

/** A test server and the replicas a test opens on it, all closed after each test. */
export function useTestWorld() {
  let current: TestServer | undefined;
  const replicas: Replica[] = [];
  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.close()));
    await current?.close();
    current = undefined;
  });
  const server = (): TestServer => {
    if (!current) throw new Error('start() a server first');
    return current;
  };
  return {
    /** A fresh server for this test. */
    start: (options?: TestServerOptions) => (current = createTestServer(options)),
    /** The server this test started. */
    server,
    /** A replica of the server, closed after the test. */
    async replica(options: TestReplicaOptions = {}): Promise<Replica> {
      const replica = await openTestReplica(server(), options);
      replicas.push(replica);
      return replica;
    },
  };
}
