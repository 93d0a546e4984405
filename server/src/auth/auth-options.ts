import type { JsonWebKey } from 'node:crypto';
import type { Identity } from './identity';

/** The JWT signature algorithms a server may accept. */
export type SymmetricAlgorithm = 'HS256' | 'HS384' | 'HS512';
export type AsymmetricAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

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
      /** The identity a request proves, or `undefined` when it proves none (answered `401 unauthorized`). */
      verify(request: Request): Identity | undefined | Promise<Identity | undefined>;
    };
