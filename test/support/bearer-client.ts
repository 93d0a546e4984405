import { expect } from 'vitest';
import {
  PROTOCOL_VERSION,
  type FromServerConflicts,
  type FromServerPull,
  type FromServerPush,
  type FromServerRegister,
} from '@concord/shared';
import type { TestServer } from './test-server';

/**
 * A caller of `server`'s HTTP API with a bearer token, speaking the protocol by hand: register
 * once, then push changes (numbered for you), pull pages, list and settle conflicts.
 */
export function bearerClient(server: TestServer, token: string) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  let gen = 0;
  const api = {
    get: (path: string, signal?: AbortSignal) => server.request(path, { headers, signal }),
    post: (path: string, body: object) =>
      server.request(path, {
        method: 'POST',
        headers,
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, schemaVersion: server.schema.version, ...body }),
      }),
    replica: undefined as FromServerRegister | undefined,
    async register() {
      const response = await api.post('/v1/replicas', {});
      expect(response.status).toBe(201);
      api.replica = (await response.json()) as FromServerRegister;
      return api.replica;
    },
    async push(changes: object[]) {
      const from = gen + 1;
      const numbered = changes.map((change) => ({ baseGeneration: 0, localGeneration: ++gen, ...change }));
      const response = await api.post('/v1/push', {
        replicaId: api.replica!.replicaId,
        secret: api.replica!.secret,
        fromLocalGeneration: from,
        toLocalGeneration: gen,
        changes: numbered,
      });
      return { status: response.status, body: (await response.json()) as FromServerPush };
    },
    async pull(after = 0) {
      const response = await api.post('/v1/pull', {
        replicaId: api.replica!.replicaId,
        secret: api.replica!.secret,
        after,
        ...(after > 0 ? { commit: await server.store.commitAt(after) } : {}),
      });
      return { status: response.status, body: (await response.json()) as FromServerPull & { code?: string } };
    },
    async conflicts() {
      return ((await (await api.get('/v1/conflicts')).json()) as FromServerConflicts).conflicts;
    },
    resolve: (id: string, choice: unknown) =>
      server.request(`/v1/conflicts/${id}/resolve`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ protocol: PROTOCOL_VERSION, choice }),
      }),
  };
  return api;
}
