import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Poke, PokeHub } from '../realtime/poke-hub';
import type { Store } from '../storage/store';
import { identityOf } from './require-identity';

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
 * A stream opened with a token ends when the token expires: the replica opens it again with a fresh one.
 */
export function eventRoutes(app: Hono, env: EventEnvironment): void {
  app.get('/events', (c) =>
    streamSSE(c, async (stream) => {
      let wake: () => void = () => undefined;
      const exp = identityOf(c)?.claims.exp;
      let expired = false;
      // setTimeout holds at most 2^31 - 1 ms; a token valid for longer ends its stream then, and it reopens.
      const expiry =
        typeof exp === 'number'
          ? setTimeout(() => ((expired = true), wake()), Math.min(Math.max(exp * 1000 - Date.now(), 0), 2 ** 31 - 1))
          : undefined;
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
        while (!stream.aborted && !stream.closed && !expired) {
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
          if (idle && !stream.aborted && !expired) await stream.writeSSE({ event: 'ping', data: '' });
        }
      } finally {
        clearTimeout(expiry);
        unsubscribe();
      }
    }),
  );
}
