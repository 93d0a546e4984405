import { z } from 'zod';
import { isStorableName } from '../schema/well-formed';
import { PROTOCOL_LIMITS, PROTOCOL_VERSION } from './version';

export const generation = z.int().nonnegative();
/** Text a store can be asked for as it is: well-formed, no U+0000 (PostgreSQL text cannot hold it). */
export const storable = z
  .string()
  .max(PROTOCOL_LIMITS.maxIdLength)
  .refine(isStorableName, { message: 'must be well-formed text without U+0000' });
export const id = storable.min(1);
export const protocol = z.literal(PROTOCOL_VERSION);
export const schemaVersion = z.int().positive();
/**
 * The secret a replica was given at registration; every request acting for the replica carries
 * it. Left out, the request is `unauthorized` (not malformed), like a wrong one.
 */
export const secret = z.string().max(256);
