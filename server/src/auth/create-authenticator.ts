import { decode, verify, verifyWithJwks } from 'hono/jwt';
import { ConcordError, isStorableName, type JsonValue } from '@concord/shared';
import {
  ASYMMETRIC_ALGORITHMS,
  SYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  type AuthOptions,
} from './auth-options';
import type { Identity } from './identity';
import { createJwksCache, type JwksEnvironment } from './jwks-cache';

/** A subject is stored with every replica it registers. */
const MAX_SUBJECT_LENGTH = 1_000;

/** Proves who a request acts for, or throws `unauthorized`. */
export type Authenticator = (request: Request) => Promise<Identity>;

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
      const claims = identity.claims ?? {};
      // The wall clock, as for a JWT's own exp (and as the event stream ends by).
      if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
        throw unauthorized('the identity has expired (exp)');
      }
      return checkedIdentity(identity.subject, claims);
    };
  }
  const checks = { iss: options.issuer, aud: options.audience };
  let verifyToken: (token: string) => Promise<Record<string, unknown>>;
  if ('secret' in options) {
    const alg = options.algorithm ?? 'HS256';
    if (!Object.hasOwn(SYMMETRIC_ALGORITHMS, alg)) {
      throw new Error(`auth.algorithm must be one of ${Object.keys(SYMMETRIC_ALGORITHMS).join(', ')} with a secret`);
    }
    const bytes = SYMMETRIC_ALGORITHMS[alg];
    if (typeof options.secret !== 'string' || Buffer.byteLength(options.secret) < bytes) {
      throw new Error(`auth.secret must be a string of at least ${bytes} bytes for ${alg}`);
    }
    verifyToken = (token) => verify(token, options.secret, { alg, ...checks });
  } else if ('publicKey' in options) {
    if (!isAsymmetric(options.algorithm)) {
      throw new Error(`auth.algorithm must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')} with a public key`);
    }
    verifyToken = (token) => verify(token, options.publicKey as never, { alg: options.algorithm, ...checks });
  } else {
    const keys = createJwksCache(options.jwks, environment);
    const allowedAlgorithms = options.algorithms ?? ASYMMETRIC_ALGORITHMS;
    if (allowedAlgorithms.length === 0 || !allowedAlgorithms.every(isAsymmetric)) {
      throw new Error(`auth.algorithms must list some of ${ASYMMETRIC_ALGORITHMS.join(', ')} with a key set`);
    }
    verifyToken = async (token) => {
      const current = await keys.current().catch(() => {
        throw new ConcordError('unavailable', 'the key set that verifies tokens cannot be read; try again later');
      });
      const verification = { keys: current, allowedAlgorithms, verification: checks };
      try {
        return await verifyWithJwks(token, verification);
      } catch (error) {
        // A token naming a key the set lacks (rotated since it was read): read it again, at most so often, and try once more.
        if (knowsKey(current, token)) throw error;
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

const isAsymmetric = (algorithm: unknown): algorithm is AsymmetricAlgorithm =>
  (ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(algorithm);

/** Whether `keys` hold the key a token's header names (a token that cannot be read names none of them). */
function knowsKey(keys: readonly { kid?: string }[], token: string): boolean {
  try {
    const { kid } = decode(token).header;
    return kid === undefined || keys.some((key) => key.kid === kid);
  } catch {
    return true;
  }
}
