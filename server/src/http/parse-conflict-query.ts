import type { z } from 'zod';
import { ConcordError, fromReplicaConflictsQuery } from '@concord/shared';

/** The filters of `GET /conflicts` from its query string; anything else in it is `bad_request`. */
export function parseConflictQuery(query: Record<string, string>): z.output<typeof fromReplicaConflictsQuery> {
  const parsed = fromReplicaConflictsQuery.safeParse(query);
  if (!parsed.success) {
    throw new ConcordError(
      'bad_request',
      `invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
