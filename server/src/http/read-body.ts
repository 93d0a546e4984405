import type { Context } from 'hono';
import type { z } from 'zod';
import { ConcordError, PROTOCOL_VERSION, describeValue } from '@concord/shared';
import type { SchemaVersions } from '../versions/schema-versions';

/**
 * Reads a request body as one protocol message; bound to the schema versions the server serves. `precheck` sees the
 * parsed JSON before the message schema does, to refuse what is too large to be worth validating.
 */
export type BodyReader = <T extends z.ZodType>(
  c: Context,
  message: T,
  precheck?: (body: unknown) => void,
) => Promise<z.output<T>>;

/**
 * Parses and validates a JSON request body against a protocol message schema, refusing a
 * foreign protocol version first so that an old or new client is told exactly why.
 */
export async function readBody<T extends z.ZodType>(
  c: Context,
  message: T,
  versions: SchemaVersions,
  precheck?: (body: unknown) => void,
): Promise<z.output<T>> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new ConcordError('invalid_json', 'the request body is not valid JSON');
  }
  const protocol = typeof body === 'object' && body !== null ? (body as { protocol?: unknown }).protocol : undefined;
  if (protocol !== undefined && protocol !== PROTOCOL_VERSION) {
    throw new ConcordError(
      'unsupported_protocol',
      `protocol ${describeValue(protocol)} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      {
        supported: [PROTOCOL_VERSION],
      },
    );
  }
  precheck?.(body);
  const parsed = message.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new ConcordError(
      'bad_request',
      `invalid request: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  const data = parsed.data as { schemaVersion?: number };
  if (data.schemaVersion !== undefined && !versions.at(data.schemaVersion)) {
    // Whichever side is older must be updated: an app can show "update required" from `update`.
    const { version } = versions.current;
    const update = data.schemaVersion < version ? 'replica' : 'server';
    throw new ConcordError(
      'schema_mismatch',
      `schema version ${data.schemaVersion} is not one this server serves (${versions.served.join(', ')}): ${
        update === 'replica'
          ? 'this app is older than the server, and must be updated'
          : 'the server must be updated to serve this app'
      }`,
      { server: version, served: versions.served, replica: data.schemaVersion, update },
    );
  }
  return parsed.data;
}
