import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Poke, PokeHub } from '../realtime/poke-hub';
import type { Store } from '../storage/store';

export interface EventEnvironment {
  store: Store;
  pokes: PokeHub;
  /** How often an idle stream sends a `ping`, so proxies and clients notice a dead connection. */
  heartbeatMs: number;
}

/**
 * `GET /v1/events`: a Server-Sent Events stream. It opens with `hello` (the current generation
 * and epoch), then sends `poke` with the newest generation after every commit (with
 * `conflicts: true` when it added or settled conflict entries), and `ping` while idle. A replica syncs on a poke; the stream carries no row data.
 */
export function eventRoutes(app: Hono, env: EventEnvironment): void {
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let wake: () => void = () => undefined;
      const pokes: Poke[] = [];
      // Subscribed before reading the generation, so no commit falls between hello and the first poke.
      const unsubscribe = env.pokes.subscribe((poke) => {
        pokes.push(poke);
        wake();
      });
      stream.onAbort(() => wake());
      try {
        const { generation, epoch } = await env.store.meta();
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ generation, epoch }) });
        while (!stream.aborted && !stream.closed) {
          if (pokes.length > 0) {
            // Pokes waiting together go out as one: the newest generation, and whether any changed conflicts.
            const waiting = pokes.splice(0);
            const generation = Math.max(...waiting.map((poke) => poke.generation));
            const data = waiting.some((poke) => poke.conflicts) ? { generation, conflicts: true } : { generation };
            await stream.writeSSE({ event: 'poke', data: JSON.stringify(data) });
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
