import { MAX_ID_LENGTH } from '../schema/max-id-length';

/** The wire protocol version. A request carrying any other version is refused with `unsupported_protocol`. */
export const PROTOCOL_VERSION = 2;

/** Hard ceilings of the protocol; servers may configure lower ones. */
export const PROTOCOL_LIMITS = {
  maxChangesPerPush: 10_000,
  maxChangesPerPull: 10_000,
  maxIdLength: MAX_ID_LENGTH,
} as const;
