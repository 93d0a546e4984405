import type { TestServer } from '../test/support/test-server';
import { now } from './bench';

/**
 * A replica's `fetch` straight into the server's `app.request`, adding the time spent inside the
 * server (response body read) to `serverMs`: a real server does that work on another machine, so
 * a figure of the replica's own cost leaves it out.
 */
export function timedFetch(server: TestServer) {
  const timed = {
    serverMs: 0,
    fetch: async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const start = now();
      const response = await server.app.request(input as string, init);
      const text = await response.text();
      timed.serverMs += now() - start;
      return new Response(text, { status: response.status, headers: response.headers });
    },
  };
  return timed;
}
