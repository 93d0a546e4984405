import { z } from 'zod';
import { ConcordError, conflictStatuses, isStorableName } from '@concord/shared';

/** A name in a query string: anything a store can be asked for as it is (no lone surrogate, no U+0000). */
const name = z.string().max(1_000).refine(isStorableName, { message: 'must be well-formed text without U+0000' });

const conflictQuery = z.strictObject({
  status: z.enum(conflictStatuses).optional(),
  table: name.optional(),
  replicaId: name.optional(),
  after: name.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export type ConflictQuery = z.output<typeof conflictQuery>;

/** The filters of `GET /conflicts` from its query string; anything else in it is `bad_request`. */
export function parseConflictQuery(query: Record<string, string>): ConflictQuery {
  const parsed = conflictQuery.safeParse(query);
  if (!parsed.success) {
    throw new ConcordError(
      'bad_request',
      `invalid query: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
