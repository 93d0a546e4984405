import type { Hono } from 'hono';
import { PROTOCOL_VERSION, fromReplicaRegister, type FromServerRegister } from '@concord/shared';
import { registerReplica } from '../replicas/register-replica';
import { identityOf } from './require-identity';
import type { BodyReader } from './read-body';
import type { RouteEnvironment } from './route-environment';

/** `POST /replicas`: registers a replica and hands it its id and secret, once. */
export function replicaRoutes(
  app: Hono,
  env: Pick<RouteEnvironment, 'store' | 'newId' | 'now' | 'priorityOf' | 'partitionOf' | 'limits'>,
  readBody: BodyReader,
): void {
  const { store } = env;
  app.post('/replicas', async (c) => {
    await readBody(c, fromReplicaRegister);
    const { replicaId, secret, priority } = await registerReplica(env, c.req.raw, identityOf(c));
    const { epoch, generation } = await store.meta();
    const { limits } = env;
    return c.json(
      {
        protocol: PROTOCOL_VERSION,
        replicaId,
        secret,
        priority,
        epoch,
        generation,
        limits,
      } satisfies FromServerRegister,
      201,
    );
  });
}
