import type { FromServerPush } from '@concord/shared';
import type { TestServer } from '../test/support/test-server';
import { now } from './bench';

/**
 * Sends pre-built `/v1/push` bodies one after another and times only that: the answers are read
 * inside the clock but parsed after it stops. Throws on the first push not answered 2xx.
 */
export async function timePushes(
  server: TestServer,
  bodies: readonly string[],
): Promise<{ ms: number; results: FromServerPush['results'] }> {
  const texts: string[] = [];
  const start = now();
  for (const body of bodies) {
    const response = await server.request('/v1/push', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`push failed: HTTP ${response.status} ${text.slice(0, 500)}`);
    texts.push(text);
  }
  const ms = now() - start;
  return { ms, results: texts.flatMap((text) => (JSON.parse(text) as FromServerPush).results) };
}
