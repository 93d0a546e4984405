import type { Hono } from 'hono';
import { PROTOCOL_VERSION } from '@concord/shared';
import type { RouteEnvironment } from './route-environment';

/** `GET /health`: the protocol, schema version (and every version served), epoch and generation, and the limits this server accepts. */
export function healthRoute(app: Hono, env: Pick<RouteEnvironment, 'store' | 'schema' | 'versions' | 'limits'>): void {
  const { store, schema } = env;
  app.get('/health', async (c) => {
    const { generation, epoch } = await store.meta();
    const { limits } = env;
    const schemaVersions = env.versions.served;
    return c.json({
      ok: true,
      protocol: PROTOCOL_VERSION,
      schemaVersion: schema.version,
      schemaVersions,
      epoch,
      generation,
      limits,
    });
  });
}
