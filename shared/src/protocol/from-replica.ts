import { z } from 'zod';
import { isStorableName } from '../schema/well-formed';
import { conflictStatuses } from './conflict-entry';
import { generation, id, protocol, schemaVersion, secret, storable } from './fields';
import { crdtUpdates, rowValues } from '../schema/row-values';
import { PROTOCOL_LIMITS } from './version';

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
  /** Edits to CRDT columns: per column, a Yjs update (base64) the server merges, never resolves. */
  crdt: crdtUpdates.optional(),
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

/** The fields of a request that reads from the replica's download cursor on. */
const fromCursor = {
  protocol,
  schemaVersion,
  replicaId: id,
  secret: secret.optional(),
  /** The replica's receivedGeneration: changes with a greater generation are returned. */
  after: generation,
  /** The id of the commit `after` stands on, as the last page gave it; required unless `after` is 0. */
  commit: storable.optional(),
};

export const fromReplicaPull = z.strictObject({
  ...fromCursor,
  limit: z.int().min(1).max(PROTOCOL_LIMITS.maxChangesPerPull).optional(),
  /** Include the rows this replica wrote last (left out otherwise): a replica recovering from a restored store compares them. */
  own: z.boolean().optional(),
  /**
   * The highest local generation this replica knows the server applied. A server that has applied
   * less lost its changes (a restored store): it refuses with `generation_gap`, even when the
   * replica has nothing to push.
   */
  acknowledged: generation.optional(),
  /** Only rows of these tables (a replica reinitializing some of its tables). Default: every table. */
  tables: z.array(storable).max(1_000).optional(),
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

/** A name in a query string: anything a store can be asked for as it is (no lone surrogate, no U+0000). */
const queryName = z.string().max(1_000).refine(isStorableName, { message: 'must be well-formed text without U+0000' });

/**
 * The query of `GET /v1/conflicts`: entries oldest first, filtered by `status`, `table` and
 * `replicaId`, at most `limit` of them (default 100) after the entry with id `after`. A query
 * string carries only text, so `limit` is read from its digits.
 */
export const fromReplicaConflictsQuery = z.strictObject({
  status: z.enum(conflictStatuses).optional(),
  table: queryName.optional(),
  replicaId: queryName.optional(),
  after: queryName.optional(),
  limit: z.coerce.number<number | string>().int().min(1).max(1000).default(100),
});
/** A conflict-list query as a replica sends it. */
export type FromReplicaConflictsQuery = z.input<typeof fromReplicaConflictsQuery>;

/** A row named on the wire. */
export const rowKeyMessage = z.strictObject({ table: storable, rowguid: storable });

/**
 * Asks for the server's count and checksum of each table, for the rows this replica's partition
 * holds, as they stood at the replica's cursor (`after`, `commit`): rows changed since are left
 * out and named in the answer (`changed`), and so are the rows named in `exclude` (its pending
 * changes).
 */
export const fromReplicaValidate = z.strictObject({
  ...fromCursor,
  exclude: z.array(rowKeyMessage).max(PROTOCOL_LIMITS.maxChangesPerPush),
});
export type FromReplicaValidate = z.infer<typeof fromReplicaValidate>;
