import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { PokeHub } from '../realtime/poke-hub';
import type { Store } from '../storage/store';

export interface EventEnvironment {
  store: Store;
  pokes: PokeHub;
  /** How often an idle stream sends a `ping`, so proxies and clients notice a dead connection. */
  heartbeatMs: number;
}

/**
 * `GET /v1/events`: a Server-Sent Events stream. It opens with `hello` (the current generation
 * and epoch), then sends `poke` with the newest generation after every commit, and `ping`
 * while idle. A replica syncs on a poke; the stream carries no row data.
 */
export function eventRoutes(env: EventEnvironment) {
  return new Hono().get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let wake: () => void = () => undefined;
      const pokes: number[] = [];
      // Subscribed before reading the generation, so no commit falls between hello and the first poke.
      const unsubscribe = env.pokes.subscribe((newest) => {
        pokes.push(newest);
        wake();
      });
      stream.onAbort(() => wake());
      try {
        const { generation, epoch } = await env.store.meta();
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ generation, epoch }) });
        while (!stream.aborted && !stream.closed) {
          const newest = pokes.length > 0 ? Math.max(...pokes.splice(0)) : undefined;
          if (newest !== undefined) {
            await stream.writeSSE({ event: 'poke', data: JSON.stringify({ generation: newest }) });
            continue;
          }
          const idle = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(true), env.heartbeatMs);
            wake = () => {
              clearTimeout(timer);
              resolve(false);
            };
          });
          if (idle && !stream.aborted) await stream.writeSSE({ event: 'ping', data: '' });
        }
      } finally {
        unsubscribe();
      }
    }),
  );
}
