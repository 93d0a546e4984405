import type { JsonWebKey } from 'node:crypto';
import type { verifyWithJwks } from 'hono/jwt';

type Keys = NonNullable<Parameters<typeof verifyWithJwks>[1]['keys']>;

/** How the key set is read, and the clock its age is told by (ms; injectable, so tests can age it). */
export interface JwksEnvironment {
  fetch: typeof fetch;
  now: () => number;
}

/** How long a fetched key set is used before it is read again. */
const MAX_AGE_MS = 10 * 60_000;
/** The key set is read again at most this often: after a failure, or for a token naming an unknown key. */
const MIN_REFRESH_MS = 30_000;
/** A read of the key set that takes longer fails. */
const READ_TIMEOUT_MS = 5_000;

/**
 * A JSON Web Key Set, given as keys or read from its URL. One read runs at a time, whoever asks;
 * a failed read keeps the last good keys (a stale key set verifies better than none), and the set
 * is read again at most every `MIN_REFRESH_MS`, so callers with bad tokens cannot make the
 * server read it on every request.
 */
export function createJwksCache(
  source: { url: string } | { keys: JsonWebKey[] },
  { fetch: fetchJwks, now }: JwksEnvironment,
) {
  if ('keys' in source) {
    const keys = source.keys as Keys;
    return { current: async () => keys, refreshed: async () => undefined };
  }
  let keys: Keys | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let triedAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<Keys> | undefined;
  const read = (): Promise<Keys> => {
    triedAt = now();
    reading ??= load(source.url, fetchJwks)
      .then((loaded) => {
        keys = loaded;
        readAt = now();
        return loaded;
      })
      .finally(() => (reading = undefined));
    return reading;
  };
  const recently = () => now() - triedAt < MIN_REFRESH_MS;
  return {
    /** The keys as last read; read now when never read or too old (the old ones if that fails). */
    async current(): Promise<Keys> {
      if (keys && now() - readAt < MAX_AGE_MS) return keys;
      if (reading) return reading.catch(() => stale());
      if (recently()) return stale();
      return read().catch(() => stale());
    },
    /** The keys read again, or `undefined` when they were read too recently or the read failed. */
    async refreshed(): Promise<Keys | undefined> {
      if (reading) return reading.catch(() => undefined);
      if (recently()) return undefined;
      return read().catch(() => undefined);
    },
  };
  function stale(): Keys {
    if (keys) return keys;
    throw new Error('the key set cannot be read');
  }
}

async function load(url: string, fetchJwks: typeof fetch): Promise<Keys> {
  const response = await fetchJwks(url, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`the key set answered ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error('the key set has no keys');
  return body.keys as Keys;
}
