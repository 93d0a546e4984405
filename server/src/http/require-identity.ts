import type { Context, MiddlewareHandler } from 'hono';
import { ConcordError } from '@concord/shared';
import type { Authenticator } from '../auth/create-authenticator';
import type { Identity } from '../auth/identity';

declare module 'hono' {
  interface ContextVariableMap {
    /** The identity the request proved; absent on a server without `auth`. */
    identity?: Identity;
  }
}

/** What a token failure tells the caller, as RFC 6750 asks. */
const CHALLENGE = 'Bearer realm="concord", error="invalid_token"';

/**
 * Proves the caller's identity before anything else is read (health is routed before it). A request
 * that proves none is answered `401 unauthorized` with a `WWW-Authenticate` challenge.
 */
export function requireIdentity(authenticate: Authenticator): MiddlewareHandler {
  return async (c, next) => {
    let identity: Identity;
    try {
      identity = await authenticate(c.req.raw);
    } catch (error) {
      if (!(error instanceof ConcordError) || error.code !== 'unauthorized') throw error;
      return c.json(error.toJSON(), 401, { 'WWW-Authenticate': CHALLENGE });
    }
    c.set('identity', identity);
    return next();
  };
}

/** The identity a request proved, or `undefined` on a server without `auth`. */
export function identityOf(c: Context): Identity | undefined {
  return c.get('identity');
}
