import { z } from 'zod';
import { conflictEntry } from './conflict-entry';
import { generation, id, protocol, secret } from './fields';
import { crdtUpdates, rowValues } from '../schema/row-values';

/** What a server accepts, announced at registration and in `/v1/health`, so a replica cuts its uploads to fit. */
export const serverLimits = z.object({
  maxBodyBytes: z.int().positive(),
  maxPushChanges: z.int().positive(),
  maxPullChanges: z.int().positive(),
});
export type ServerLimits = z.infer<typeof serverLimits>;

/** A server's limits unless configured otherwise; a replica assumes them until it registers. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  maxPushChanges: 5_000,
  maxPullChanges: 5_000,
});

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
  /** For a change that carried CRDT edits, each edited column's whole merged state (a Yjs update, base64). */
  crdt: crdtUpdates.optional(),
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

/**
 * A row as it stands at the server after a change; tombstones carry `values: null`. A removal
 * (`removed: true`, a tombstone for the replica) is a row that left the replica's partition: it
 * lives on for others, and the replica drops its copy.
 */
export const fromServerChange = z.object({
  table: z.string(),
  rowguid: z.string(),
  generation,
  deleted: z.boolean(),
  values: rowValues.nullable(),
  /** A live row's CRDT columns: each one's whole merged state (a Yjs update, base64). */
  crdt: crdtUpdates.optional(),
  removed: z.literal(true).optional(),
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

/**
 * The server's side of a validation. `behind`: more changed since the replica's cursor than an
 * answer names (or something changed while it was counted): the replica downloads and asks
 * again. Otherwise, per table the replica downloads, the count and checksum of its rows, leaving
 * out the excluded rows and those `changed` since the cursor.
 */
export const fromServerValidate = z.object({
  protocol,
  epoch: z.string(),
  behind: z.boolean(),
  tables: z.array(z.object({ table: z.string(), count: generation, checksum: generation })),
  changed: z.array(z.object({ table: z.string(), rowguid: z.string() })),
});
export type FromServerValidate = z.infer<typeof fromServerValidate>;
