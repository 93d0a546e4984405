import type { Hono } from 'hono';
import { PROTOCOL_VERSION } from '@concord/shared';
import type { RouteEnvironment } from './route-environment';

/** `GET /health`: the protocol, schema version, epoch and generation, and the limits this server accepts. */
export function healthRoute(app: Hono, env: Pick<RouteEnvironment, 'store' | 'schema' | 'limits'>): void {
  const { store, schema } = env;
  app.get('/health', async (c) => {
    const { generation, epoch } = await store.meta();
    const { limits } = env;
    return c.json({ ok: true, protocol: PROTOCOL_VERSION, schemaVersion: schema.version, epoch, generation, limits });
  });
}
