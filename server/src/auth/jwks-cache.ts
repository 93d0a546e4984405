import type { JsonWebKey } from 'node:crypto';
import type { verifyWithJwks } from 'hono/jwt';

type Keys = NonNullable<Parameters<typeof verifyWithJwks>[1]['keys']>;

/** A JSON Web Key Set, fetched from its URL at most every `MIN_REFRESH_MS`, or given as keys. */
export function createJwksCache(source: { url: string } | { keys: JsonWebKey[] }, fetchJwks: typeof fetch) {
  if ('keys' in source) {
    const keys = source.keys as Keys;
    return { current: async () => keys, refreshed: async () => undefined };
  }
  let keys: Promise<Keys> | undefined;
  let readAt = 0;
  const read = () => {
    readAt = Date.now();
    keys = load(source.url, fetchJwks);
    keys.catch(() => (keys = undefined)); // a failed read is tried again by the next request
    return keys;
  };
  return {
    /** The keys as last read (read now if never read, or last read more than `MAX_AGE_MS` ago). */
    current: () => (keys && Date.now() - readAt < MAX_AGE_MS ? keys : read()),
    /** The keys read again, or `undefined` when they were read too recently to ask again. */
    refreshed: async () => (Date.now() - readAt < MIN_REFRESH_MS ? undefined : read()),
  };
}

/** How long a fetched key set is used before it is read again. */
const MAX_AGE_MS = 10 * 60_000;
/** A token with an unknown key makes the set be read again, but no more often than this. */
const MIN_REFRESH_MS = 30_000;

async function load(url: string, fetchJwks: typeof fetch): Promise<Keys> {
  const response = await fetchJwks(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`the key set at ${url} answered ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error(`the key set at ${url} has no keys`);
  return body.keys as Keys;
}
