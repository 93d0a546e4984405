import type { MiddlewareHandler } from 'hono';
import { ConcordError } from '@concord/shared';

/**
 * Every body must be declared JSON. A form or `text/plain` body is what any web page may send
 * to any origin without asking first (no CORS preflight), so it is refused before it is read.
 */
export const requireJson: MiddlewareHandler = async (c, next) => {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.req.method !== 'OPTIONS') {
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      throw new ConcordError(
        'unsupported_media_type',
        `a request body must be sent as application/json, got ${type ? `"${type}"` : 'no content type'}`,
      );
    }
  }
  await next();
};
