import { z } from 'zod';
import { isStorableName } from '../schema/check-value';

/** The wire protocol version. A request carrying any other version is refused with `unsupported_protocol`. */
export const PROTOCOL_VERSION = 2;

/** Hard ceilings of the protocol; servers may configure lower ones. */
export const PROTOCOL_LIMITS = {
  maxChangesPerPush: 10_000,
  maxChangesPerPull: 10_000,
  maxIdLength: 128,
} as const;

const generation = z.int().nonnegative();
/** Text a store can be asked for as it is: well-formed, no U+0000 (PostgreSQL text cannot hold it). */
const storable = z
  .string()
  .max(PROTOCOL_LIMITS.maxIdLength)
  .refine(isStorableName, { message: 'must be well-formed text without U+0000' });
const id = storable.min(1);
const protocol = z.literal(PROTOCOL_VERSION);
const schemaVersion = z.int().positive();
/**
 * The secret a replica was given at registration; every request acting for the replica carries
 * it. Left out, the request is `unauthorized` (not malformed), like a wrong one.
 */
const secret = z.string().max(256);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A row's app data: column name → JSON value. Never contains sync metadata. */
export type RowValues = Record<string, JsonValue>;

/**
 * Bodies arrive as parsed JSON, so any plain object holds JSON values; each value is then
 * checked against its column's type at the server edge. This keeps validation O(columns).
 */
export const rowValues = z.custom<RowValues>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'expected an object of column values' },
);

// ---- from the replica

/**
 * One outbox entry on the wire. For `upsert`, `values` holds only the changed columns and
 * `base` their values before the first unsent edit. `baseGeneration` is the server generation
 * of the row the replica last saw. Fields at their default may be left out, which keeps a
 * one-column update small: `op` defaults to `upsert`, `baseGeneration` to 0 (a row the replica
 * never saw from the server) and `localGeneration` to the push's `toLocalGeneration`. The server
 * checks the table, rowguid and values of each change on its own (`rejected` when they do not fit).
 */
export const fromReplicaChange = z.strictObject({
  // Any string: what a change names is checked per change, so a bad one is refused on its own.
  table: z.string(),
  rowguid: z.string(),
  op: z.enum(['upsert', 'delete']).default('upsert'),
  localGeneration: generation.min(1).optional(),
  baseGeneration: generation.default(0),
  values: rowValues.optional(),
  base: rowValues.optional(),
  /**
   * An upsert that replaces the row wholly (it was deleted and written again before upload):
   * the server keeps exactly `values`, none of the old row's columns, and compares `base` (the
   * row the delete removed) as it would a delete's.
   */
  replace: z.literal(true).optional(),
  /**
   * Made without knowing which version the server holds (a replica recovering from a restored
   * store): whatever the server holds that differs from it — any version, a tombstone included,
   * by any replica — is a conflict, never silently overwritten.
   */
  blind: z.literal(true).optional(),
});
/** A change as it may be sent: fields at their default may be absent. */
export type FromReplicaChangeInput = z.input<typeof fromReplicaChange>;

export const fromReplicaRegister = z.strictObject({
  protocol,
  schemaVersion,
});
export type FromReplicaRegister = z.infer<typeof fromReplicaRegister>;

/**
 * A batch of changes covering local generations `fromLocalGeneration..toLocalGeneration`.
 * `fromLocalGeneration` may be at most one past the generations the server already applied from
 * the replica (`generation_gap` otherwise): a range the replica skipped, or one overtaken by a
 * later push, is never acknowledged unapplied.
 * Parsing fills in every default, so each parsed change has its op, base generation and local generation.
 */
export const fromReplicaPush = z
  .strictObject({
    protocol,
    schemaVersion,
    replicaId: id,
    secret: secret.optional(),
    fromLocalGeneration: generation.min(1),
    toLocalGeneration: generation.min(1),
    /**
     * The replica's download cursor and its commit: the history the changes' base generations
     * belong to. A store without that commit (restored from a backup) refuses the push with
     * `cursor_unknown` rather than compare the bases with generations it reached under other commits.
     */
    after: generation.optional(),
    commit: storable.optional(),
    changes: z.array(fromReplicaChange).max(PROTOCOL_LIMITS.maxChangesPerPush),
  })
  .refine((push) => push.fromLocalGeneration <= push.toLocalGeneration, {
    message: 'fromLocalGeneration must not exceed toLocalGeneration',
    path: ['fromLocalGeneration'],
  })
  .refine(
    (push) =>
      push.changes.every(
        ({ localGeneration = push.toLocalGeneration }) =>
          localGeneration >= push.fromLocalGeneration && localGeneration <= push.toLocalGeneration,
      ),
    { message: 'every change must lie within fromLocalGeneration..toLocalGeneration', path: ['changes'] },
  )
  .transform((push) => {
    // The parsed changes are fresh objects, so filling them in place copies nothing.
    for (const change of push.changes) change.localGeneration ??= push.toLocalGeneration;
    return push as Omit<typeof push, 'changes'> & { changes: FromReplicaChange[] };
  });
/** A parsed push: every change complete. */
export type FromReplicaPush = z.output<typeof fromReplicaPush>;
/** A push as it may be sent: changes may leave fields at their default out. */
export type FromReplicaPushInput = z.input<typeof fromReplicaPush>;
/** A parsed change, every default filled in. */
export type FromReplicaChange = z.output<typeof fromReplicaChange> & { localGeneration: number };

export const fromReplicaPull = z.strictObject({
  protocol,
  schemaVersion,
  replicaId: id,
  secret: secret.optional(),
  /** The replica's receivedGeneration: changes with a greater generation are returned. */
  after: generation,
  /** The id of the commit `after` stands on, as the last page gave it; required unless `after` is 0. */
  commit: storable.optional(),
  limit: z.int().min(1).max(PROTOCOL_LIMITS.maxChangesPerPull).optional(),
  /** Include the rows this replica wrote last (left out otherwise): a replica recovering from a restored store compares them. */
  own: z.boolean().optional(),
  /**
   * The highest local generation this replica knows the server applied. A server that has applied
   * less lost its changes (a restored store): it refuses with `generation_gap`, even when the
   * replica has nothing to push.
   */
  acknowledged: generation.optional(),
  /** Cursors this replica stood on before (a recovering replica asks which the store still has: `shared`). */
  cursors: z
    .array(z.strictObject({ generation, commit: storable }))
    .max(64)
    .optional(),
});
export type FromReplicaPull = z.infer<typeof fromReplicaPull>;

/**
 * A person's decision on a logged conflict: take the losing version, confirm the winning one,
 * or supply hand-edited values (checked against the column types like any upload). `by` names
 * who decided, for the log.
 */
export const fromReplicaResolveConflict = z.strictObject({
  protocol,
  choice: z.union([z.enum(['loser', 'winner']), z.strictObject({ values: rowValues })]),
  by: id.optional(),
});
export type FromReplicaResolveConflict = z.infer<typeof fromReplicaResolveConflict>;

// ---- from the server

export const conflictTypes = [
  'update-update',
  'update-delete',
  'delete-update',
  'insert-insert',
  'failed-change',
] as const;
export type ConflictType = (typeof conflictTypes)[number];

export const conflictStatuses = ['resolved', 'open', 'overridden'] as const;
export type ConflictStatus = (typeof conflictStatuses)[number];

/** What a server accepts, announced at registration and in `/v1/health`, so a replica cuts its uploads to fit. */
export const serverLimits = z.object({
  maxBodyBytes: z.int().positive(),
  maxPushChanges: z.int().positive(),
  maxPullChanges: z.int().positive(),
});
export type ServerLimits = z.infer<typeof serverLimits>;

export const fromServerRegister = z.object({
  protocol,
  replicaId: id,
  /** The replica's credential: kept by the replica (the server keeps only its hash) and sent with every push and pull. */
  secret,
  limits: serverLimits,
  priority: z.number(),
  epoch: z.string(),
  generation,
});
export type FromServerRegister = z.infer<typeof fromServerRegister>;

/**
 * What the server did with one uploaded change. `values` is the authoritative row
 * (null when the row is a tombstone); it is omitted for `applied`, where it equals what the replica holds.
 */
export const fromServerChangeResult = z.object({
  table: z.string(),
  rowguid: z.string(),
  outcome: z.enum(['applied', 'merged', 'conflict', 'rejected', 'duplicate']),
  generation,
  deleted: z.boolean(),
  values: rowValues.nullable().optional(),
  conflictId: z.string().optional(),
  reason: z.string().optional(),
});
export type FromServerChangeResult = z.infer<typeof fromServerChangeResult>;

export const fromServerPush = z.object({
  protocol,
  epoch: z.string(),
  /** The highest local generation of this replica the server has applied (its watermark, after this push). */
  acknowledged: generation,
  results: z.array(fromServerChangeResult),
});
export type FromServerPush = z.infer<typeof fromServerPush>;

/** A row as it stands at the server after a change; tombstones carry `values: null`. */
export const fromServerChange = z.object({
  table: z.string(),
  rowguid: z.string(),
  generation,
  deleted: z.boolean(),
  values: rowValues.nullable(),
});
export type FromServerChange = z.infer<typeof fromServerChange>;

export const fromServerPull = z.object({
  protocol,
  epoch: z.string(),
  changes: z.array(fromServerChange),
  /** The replica's next `after`: every change up to it has been delivered. */
  cursor: generation,
  /** The id of the commit the cursor stands on: sent back with the next pull, so a restored store is noticed. */
  commit: z.string(),
  more: z.boolean(),
  /** The server's newest generation when the page was read: `generation − cursor` bounds what is left (for progress). */
  generation,
  /** With `cursors` in the pull: the highest of them this store still has (0 for none), a point both histories share. */
  shared: generation.optional(),
});
export type FromServerPull = z.infer<typeof fromServerPull>;

export const conflictEntry = z.object({
  id: z.string(),
  table: z.string(),
  rowguid: z.string(),
  columns: z.array(z.string()),
  type: z.enum(conflictTypes),
  resolver: z.string(),
  status: z.enum(conflictStatuses),
  winner: z.string().nullable(),
  loser: z.string().nullable(),
  winningValues: rowValues.nullable(),
  losingValues: rowValues.nullable(),
  reason: z.string(),
  replicaId: z.string(),
  localGeneration: generation,
  generation,
  createdAt: z.string(),
  /** Who settled the entry by hand (`by` of the override), absent until someone does. */
  resolvedBy: z.string().nullable().optional(),
  /** When the entry was last settled by hand. */
  resolvedAt: z.string().nullable().optional(),
});
/** One entry of the conflict log: who won, who lost, with which values, and why. */
export type ConflictEntry = z.infer<typeof conflictEntry>;

export const fromServerConflicts = z.object({
  protocol,
  /** Oldest first, at most `limit` of them and a bounded size: page on with `after` = the last id while `more`. */
  conflicts: z.array(conflictEntry),
  more: z.boolean(),
});
export type FromServerConflicts = z.infer<typeof fromServerConflicts>;

/** The settled entry, and the server generation at which the decided version replicates. */
export const fromServerResolveConflict = z.object({
  protocol,
  conflict: conflictEntry,
  generation,
});
export type FromServerResolveConflict = z.infer<typeof fromServerResolveConflict>;
