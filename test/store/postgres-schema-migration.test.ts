import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresStore, createSyncServer, type Store } from '@concord/server';
import { PROTOCOL_VERSION, type Schema } from '@concord/shared';
import { createTestDatabase, dropTestDatabase } from '../support/postgres-database';
import { reusedNameV1, reusedNameV3 } from '../support/reused-name-schemas';

const [v1, v3] = [reusedNameV1, reusedNameV3];

const stores: Store[] = [];
let url: string | undefined;
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
  if (url) await dropTestDatabase(url);
  url = undefined;
});

function serverOn(connectionString: string, schema: Schema, olderSchemas: Schema[] = []) {
  const store = createPostgresStore({ connectionString, max: 4 });
  stores.push(store);
  const app = createSyncServer({ schema, olderSchemas, store, log: (error) => console.error(error) });
  const post = (path: string, body: object) =>
    Promise.resolve(
      app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: schema.version, ...body }),
      }),
    );
  return { store, app, post };
}

describe('PostgreSQL: servers of a new schema version starting together on old rows', () => {
  it('migrate every row exactly once, and the old server stops serving', async () => {
    url = await createTestDatabase();
    const old = serverOn(url, v1);
    const { replicaId, secret } = (await (await old.post('/v1/replicas', {})).json()) as {
      replicaId: string;
      secret: string;
    };
    for (let batch = 0; batch < 3; batch++) {
      const changes = Array.from({ length: 1_000 }, (_, i) => ({
        table: 'items',
        rowguid: `i${String(batch * 1_000 + i).padStart(5, '0')}`,
        values: { name: `name ${batch * 1_000 + i}`, label: `label ${batch * 1_000 + i}` },
      }));
      const pushed = await old.post('/v1/push', {
        replicaId,
        secret,
        fromLocalGeneration: batch + 1,
        toLocalGeneration: batch + 1,
        changes,
      });
      expect(pushed.status).toBe(200);
    }
    const servers = [serverOn(url, v3, [v1]), serverOn(url, v3, [v1]), serverOn(url, v3, [v1])];
    const answers = await Promise.all(servers.map((server) => server.app.request('/v1/conflicts')));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const { rows } = await servers[0]!.store.changesSince({ after: 0, limit: 10_000 });
    expect(rows).toHaveLength(3_000);
    for (const [i, row] of rows.entries()) expect(row.values).toEqual({ title: `name ${i}`, name: `label ${i}` });
    expect(await servers[0]!.store.meta()).toMatchObject({ schemaVersion: 3, schemaMigration: null });
    expect((await old.app.request('/v1/conflicts')).status).toBe(200); // it reads the log, but writes nothing:
    const refused = await old.post('/v1/pull', { replicaId, secret, after: 0 });
    expect(refused.status).toBe(503);
  }, 60_000);
});
