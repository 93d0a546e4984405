import { generateKeyPairSync } from 'node:crypto';
import { sign } from 'hono/jwt';

/** The shared secret HS256 test servers verify with. */
export const TOKEN_SECRET = 'a-test-secret-of-enough-length-for-hs256';

const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token for `subject`, valid for an hour unless `claims` say otherwise. */
export function tokenFor(subject: string | undefined, claims: Record<string, unknown> = {}, secret = TOKEN_SECRET) {
  return sign({ ...(subject === undefined ? {} : { sub: subject }), iat: now(), exp: now() + 3600, ...claims }, secret);
}

/** A token that expired a minute ago. */
export const expiredToken = (subject: string) => tokenFor(subject, { iat: now() - 3600, exp: now() - 60 });

/** A fresh asymmetric key pair: the private key as PEM to sign with, the public key as PEM and as a JWK. */
export function keyPair(kind: 'rsa' | 'ec', kid = 'test-key') {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const alg = kind === 'rsa' ? ('RS256' as const) : ('ES256' as const);
  return {
    alg,
    kid,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg },
    /** A token for `subject`, signed with this pair's private key; its header names `kid`. */
    token: (subject: string, claims: Record<string, unknown> = {}) =>
      sign(
        { sub: subject, iat: now(), exp: now() + 3600, ...claims },
        { ...privateKey.export({ format: 'jwk' }), kid, alg },
        alg,
      ),
  };
}
