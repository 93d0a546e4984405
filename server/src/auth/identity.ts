import type { JsonValue } from '@concord/shared';

/** Who a request acts for, as its verified credentials say: never taken from a request field. */
export interface Identity {
  /** The token's `sub`: the replicas an identity registers belong to it. */
  subject: string;
  /** Every claim of the verified token, `sub` included. */
  claims: Readonly<Record<string, JsonValue>>;
}
