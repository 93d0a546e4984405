import type { JsonWebKey } from 'node:crypto';
import type { Identity } from './identity';

/** The HMAC algorithms a shared secret may verify, with the fewest bytes its secret must have (RFC 7518 §3.2). */
export const SYMMETRIC_ALGORITHMS = { HS256: 32, HS384: 48, HS512: 64 } as const;
export type SymmetricAlgorithm = keyof typeof SYMMETRIC_ALGORITHMS;

/** The algorithms a public key or a key set may verify. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** What a `verify` function answers: the subject, and the claims if it has any. */
export type VerifiedIdentity = Pick<Identity, 'subject'> & Partial<Pick<Identity, 'claims'>>;

/** Checks every verified token must also pass. */
interface TokenChecks {
  /** The `iss` a token must carry. */
  issuer?: string;
  /** The `aud` (one of them) a token must carry. */
  audience?: string | string[];
}

/**
 * How the server verifies who calls it: exactly one of a shared secret (HMAC), a public key, a
 * JSON Web Key Set, or a function of the request. Without `auth` the server is open to anyone
 * (for development).
 */
export type AuthOptions =
  | (TokenChecks & { secret: string; algorithm?: SymmetricAlgorithm })
  | (TokenChecks & { publicKey: JsonWebKey | string; algorithm: AsymmetricAlgorithm })
  | (TokenChecks & { jwks: { url: string } | { keys: JsonWebKey[] }; algorithms?: AsymmetricAlgorithm[] })
  | {
      /**
       * The identity a request proves, or `undefined` when it proves none (answered `401
       * unauthorized`). `claims` default to none; a numeric `claims.exp` (seconds) is honoured.
       */
      verify(request: Request): VerifiedIdentity | undefined | Promise<VerifiedIdentity | undefined>;
    };
