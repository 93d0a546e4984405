import { PROTOCOL_VERSION, type FromServerPull, type FromServerPush, type FromServerRegister } from '@concord/shared';
import { createPostgresStore, createSyncServer, type Store } from '@concord/server';
import { createTestDatabase } from './postgres-database';
import { testSchema } from './test-server';

/** One sync server process: a Hono app on its own store instance (its own pool and LISTEN connection). */
export interface ServerInstance {
  app: ReturnType<typeof createSyncServer>;
  store: Store;
  post<T>(path: string, body: object): Promise<T>;
  register(): Promise<string>;

  push(replicaId: string, body: object): Promise<FromServerPush>;
  pull(replicaId: string, after: number, limit: number): Promise<FromServerPull>;
}

/** `count` sync server instances sharing one fresh PostgreSQL database, as several processes would. */
export async function startServerInstances(count: number) {
  const connectionString = await createTestDatabase();
  const instances: ServerInstance[] = [];
  const secrets = new Map<string, string>(); // the instances share one database, so one replica may use any of them
  for (let i = 0; i < count; i++) {
    const store = createPostgresStore({ connectionString, max: 20 });
    const app = createSyncServer({ schema: testSchema, store, log: (error) => console.error(error) });
    const post = async <T>(path: string, body: object): Promise<T> => {
      const response = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: testSchema.version, ...body }),
      });
      const answer = (await response.json()) as T;
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${JSON.stringify(answer)}`);
      return answer;
    };
    instances.push({
      app,
      store,
      post,
      register: async () => {
        const { replicaId, secret } = await post<FromServerRegister>('/v1/replicas', {});
        secrets.set(replicaId, secret);
        return replicaId;
      },
      push: (replicaId, body) => post('/v1/push', { replicaId, secret: secrets.get(replicaId), ...body }),
      pull: async (replicaId, after, limit) => {
        const commit = after > 0 ? await store.commitAt(after) : undefined;
        return post('/v1/pull', { replicaId, secret: secrets.get(replicaId), after, commit, limit });
      },
    });
  }
  await Promise.all(instances.map((instance) => instance.store.meta()));
  return {
    connectionString,
    instances,
    close: () => Promise.all(instances.map((instance) => instance.store.close())),
  };
}
