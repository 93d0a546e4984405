import { Hono } from 'hono';
import { sign } from 'hono/jwt';
import { claimsOf, isIdentityName } from './identities';

/**
 * DEVELOPMENT ONLY. The demo's sign-in: anyone may ask for a token of any demo identity, so the
 * demo shows partitions without an identity provider. A real deployment verifies tokens issued
 * by its identity provider (`auth: { jwks }`) and serves no such route.
 */
export const DEV_TOKEN_SECRET = process.env.CONCORD_DEMO_SECRET ?? 'concord-demo-development-only-secret-do-not-deploy';

/** Tokens last eight hours: a device that stays open longer asks again. */
const LIFETIME_SECONDS = 8 * 3600;

console.warn('concord demo: DEVELOPMENT sign-in at POST /dev/token gives anyone a token: never deploy it');

export const devTokenRoutes = new Hono().post('/dev/token', async (c) => {
  const body = (await c.req.json().catch(() => null)) as { as?: unknown } | null;
  if (!isIdentityName(body?.as)) return c.json({ code: 'bad_request', message: 'as: an identity of the demo' }, 400);
  const now = Math.floor(Date.now() / 1000);
  const sub = body.as === 'hq' ? 'hq' : `branch-${body.as}`;
  const token = await sign({ sub, ...claimsOf(body.as), iat: now, exp: now + LIFETIME_SECONDS }, DEV_TOKEN_SECRET);
  return c.json({ token, expiresAt: (now + LIFETIME_SECONDS) * 1000 });
});
