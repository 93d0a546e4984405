import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConcordError } from '@concord/shared';

/** Maps every failure to the JSON error shape `{ code, message, details? }`; internals are never leaked. */
export function errorResponse(error: Error, c: Context, log: (error: unknown) => void): Response {
  const concord = toConcordError(error);
  if (concord.code === 'internal') log(error);
  return c.json(concord.toJSON(), concord.status as 400);
}

function toConcordError(error: Error): ConcordError {
  if (error instanceof ConcordError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 413)
      return new ConcordError('payload_too_large', error.message || 'the request body is too large');
    return new ConcordError(error.status === 401 ? 'unauthorized' : 'bad_request', error.message || 'bad request');
  }
  return new ConcordError('internal', 'the server failed to handle the request');
}
