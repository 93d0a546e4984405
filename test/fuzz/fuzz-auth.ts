import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JsonValue } from '@concord/shared';
import type { AuthOptions } from '@concord/server';
import { TOKEN_SECRET } from '../support/tokens';

const json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, JsonValue>;

/**
 * The fuzz server's auth: accepts exactly the tokens `auth: { secret: TOKEN_SECRET }` accepts
 * from the fuzz (HS256, a subject, not expired), verified without WebCrypto. WebCrypto verifies
 * on the libuv thread pool, and when its answer comes back would reorder concurrent requests
 * from one run to the next: a seed would no longer replay its run.
 */
export const fuzzAuth: AuthOptions = {
  verify(request) {
    const match = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(request.headers.get('authorization') ?? '');
    if (!match) return undefined;
    const [, header, payload, signature] = match as unknown as [string, string, string, string];
    const expected = createHmac('sha256', TOKEN_SECRET).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = json(payload);
    if (json(header).alg !== 'HS256' || typeof claims.sub !== 'string') return undefined;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return undefined;
    return { subject: claims.sub, claims };
  },
};
