import type { Hono } from 'hono';
import {
  ConcordError,
  PROTOCOL_VERSION,
  fromReplicaResolveConflict,
  isStorableName,
  type FromServerConflicts,
  type FromServerResolveConflict,
} from '@concord/shared';
import { applyOverride } from '../merge/apply-override';
import { checkStore } from './check-download';
import { parseConflictQuery } from './parse-conflict-query';
import { identityOf } from './require-identity';
import type { BodyReader } from './read-body';
import type { RouteEnvironment } from './route-environment';

/** `GET /conflicts` lists the conflict log a page at a time; `POST /conflicts/:id/resolve` settles an entry by hand. */
export function conflictRoutes(
  app: Hono,
  env: Pick<RouteEnvironment, 'store' | 'schema' | 'now' | 'maxPullBytes' | 'refusalOf' | 'partitions' | 'reviews'>,
  readBody: BodyReader,
): void {
  const { store } = env;
  app.get('/conflicts', async (c) => {
    const identity = identityOf(c);
    // Without the reviewer's right, a partition's entries only, and those of the caller's own uploads.
    const view = env.reviews(identity) ? undefined : env.partitions.viewOf(identity);
    const query = {
      ...parseConflictQuery(c.req.query()),
      maxBytes: env.maxPullBytes,
      view,
      subject: identity?.subject,
    };
    const conflicts = await store.listConflicts(query);
    // A page full by count, or cut by size, may have entries after it.
    const size = conflicts.reduce((sum, entry) => sum + JSON.stringify(entry).length, 0);
    const more = conflicts.length === query.limit || size >= query.maxBytes;
    return c.json({ protocol: PROTOCOL_VERSION, conflicts, more } satisfies FromServerConflicts);
  });
  app.post('/conflicts/:id/resolve', async (c) => {
    const request = await readBody(c, fromReplicaResolveConflict);
    const id = c.req.param('id');
    if (!isStorableName(id)) throw new ConcordError('not_found', 'no conflict with that id');
    // A decision writes a row: only into a store this server may write (its filters, its schema).
    checkStore(await store.meta(), env);
    const { conflict, generation } = await store.transaction((tx) =>
      applyOverride(tx, env, id, request, identityOf(c)),
    );
    return c.json({ protocol: PROTOCOL_VERSION, conflict, generation } satisfies FromServerResolveConflict);
  });
}
