import { verify, verifyWithJwks } from 'hono/jwt';
import { ConcordError, isStorableName, type JsonValue } from '@concord/shared';
import type { AsymmetricAlgorithm, AuthOptions } from './auth-options';
import type { Identity } from './identity';
import { createJwksCache, type JwksEnvironment } from './jwks-cache';

/** HMAC keys shorter than the hash are weak (RFC 7518 §3.2): refused at startup. */
const MIN_SECRET_LENGTH = 32;
/** A subject is stored with every replica it registers. */
const MAX_SUBJECT_LENGTH = 1_000;

/** Proves who a request acts for, or throws `unauthorized`. */
export type Authenticator = (request: Request) => Promise<Identity>;

const ASYMMETRIC: readonly AsymmetricAlgorithm[] = [
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
];

/**
 * The authenticator for `options`, checked at startup: exactly one way to verify. A token is
 * read only from `Authorization: Bearer …`; its `sub` must be a non-empty string, and `exp`,
 * `nbf` and `iat` are honoured.
 */
export function createAuthenticator(
  options: AuthOptions,
  environment: JwksEnvironment = { fetch, now: Date.now },
): Authenticator {
  const ways = (['secret', 'publicKey', 'jwks', 'verify'] as const).filter((way) => Object.hasOwn(options, way));
  if (ways.length !== 1) {
    throw new Error(`auth needs exactly one of secret, publicKey, jwks or verify, got ${ways.join(', ') || 'none'}`);
  }
  if ('verify' in options) {
    return async (request) => {
      const identity = await options.verify(request);
      if (!identity) throw unauthorized('the request proves no identity');
      return checkedIdentity(identity.subject, identity.claims);
    };
  }
  const checks = { iss: options.issuer, aud: options.audience };
  let verifyToken: (token: string) => Promise<Record<string, unknown>>;
  if ('secret' in options) {
    if (typeof options.secret !== 'string' || options.secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`auth.secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
    }
    verifyToken = (token) => verify(token, options.secret, { alg: options.algorithm ?? 'HS256', ...checks });
  } else if ('publicKey' in options) {
    if (!ASYMMETRIC.includes(options.algorithm)) {
      throw new Error(`auth.algorithm must be one of ${ASYMMETRIC.join(', ')} with a public key`);
    }
    verifyToken = (token) => verify(token, options.publicKey as never, { alg: options.algorithm, ...checks });
  } else {
    const keys = createJwksCache(options.jwks, environment);
    const allowedAlgorithms = options.algorithms ?? ASYMMETRIC;
    verifyToken = async (token) => {
      const current = await keys.current().catch(() => {
        throw new ConcordError('unavailable', 'the key set that verifies tokens cannot be read; try again later');
      });
      const verification = { keys: current, allowedAlgorithms, verification: checks };
      try {
        return await verifyWithJwks(token, verification);
      } catch (error) {
        // A key rotated since the set was read: read it again (at most so often) and try once more.
        const fresh = await keys.refreshed();
        if (!fresh) throw error;
        return verifyWithJwks(token, { ...verification, keys: fresh });
      }
    };
  }
  return async (request) => {
    const header = request.headers.get('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header.trim());
    if (!match) throw unauthorized('a bearer token is required');
    let claims: Record<string, unknown>;
    try {
      claims = await verifyToken(match[1]!);
    } catch (error) {
      if (error instanceof ConcordError) throw error; // the server could not check it: not the token's fault
      throw unauthorized(`the token is not valid: ${error instanceof Error ? error.name : 'unverifiable'}`);
    }
    // A token without an expiry would be good for ever: refused, whatever signed it.
    if (typeof claims.exp !== 'number') throw unauthorized('the token has no expiry (exp)');
    return checkedIdentity(claims.sub, claims);
  };
}

function checkedIdentity(subject: unknown, claims: Readonly<Record<string, unknown>>): Identity {
  if (typeof subject !== 'string' || subject === '' || !isStorableName(subject)) {
    throw unauthorized('the token names no subject (sub)');
  }
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw unauthorized(`the token's subject is longer than ${MAX_SUBJECT_LENGTH} characters`);
  }
  return { subject, claims: claims as Record<string, JsonValue> };
}

const unauthorized = (message: string) => new ConcordError('unauthorized', message, { reason: 'token' });
