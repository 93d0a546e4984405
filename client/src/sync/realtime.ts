import { backoffDelay, type Backoff } from './backoff';
import type { Transport } from './transport';

/** Reconnecting waits as `Backoff` says after each failed or dropped stream. */
export interface RealtimeOptions extends Backoff {
  transport: Pick<Transport, 'events'>;
  /** The server committed changes up to `generation`: sync; `conflicts` says the conflict log changed too. */
  onPoke(generation: number, conflicts: boolean): void;
  /**
   * A stream silent this long is taken for dead (a sleeping laptop, a proxy that dropped it) and
   * opened again. The server pings every 15 s by default.
   */
  staleMs: number;
}

export interface Realtime {
  start(): void;
  stop(): void;
  /** Reconnect now instead of waiting out the backoff (the network came back). */
  retry(): void;
}

/**
 * Keeps one Server-Sent Events connection to the server and calls `onPoke` for every `poke`
 * (and once when a stream opens, since commits and conflict entries may have been missed while
 * it was closed). A
 * dropped stream reconnects with exponential backoff and jitter; while it is down the
 * replica's interval sync still runs, so pokes only make sync faster, never required.
 */
export function createRealtime(options: RealtimeOptions): Realtime {
  let abort: AbortController | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const connect = async (controller: AbortController) => {
    const connection = new AbortController(); // this stream only: the watchdog ends it
    const end = () => connection.abort();
    controller.signal.addEventListener('abort', end);
    let watchdog = setTimeout(end, options.staleMs);
    try {
      const body = await options.transport.events(connection.signal);
      for await (const event of serverSentEvents(body, connection.signal)) {
        clearTimeout(watchdog);
        watchdog = setTimeout(end, options.staleMs);
        if (event.type === 'hello') failures = 0;
        const poke = pokeOf(event.data);
        // A stream that opens may have missed commits, conflict entries included.
        if (event.type === 'hello' && poke) options.onPoke(poke.generation, true);
        if (event.type === 'poke' && poke) options.onPoke(poke.generation, poke.conflicts);
      }
    } catch {
      // A failed, dropped or stale stream is opened again below; sync itself reports network errors.
    } finally {
      clearTimeout(watchdog);
      end();
      controller.signal.removeEventListener('abort', end);
    }
    if (controller.signal.aborted) return;
    failures++;
    timer = setTimeout(() => open(), backoffDelay(failures, options));
  };
  const open = () => {
    clearTimeout(timer);
    abort?.abort();
    abort = new AbortController();
    void connect(abort);
  };
  return {
    start() {
      if (!abort) open();
    },
    stop() {
      clearTimeout(timer);
      abort?.abort();
      abort = undefined;
    },
    retry() {
      if (abort) open();
    },
  };
}

/** The `generation` and `conflicts` flag of an event's JSON data; undefined for anything else (a proxy's junk included). */
function pokeOf(data: string): { generation: number; conflicts: boolean } | undefined {
  try {
    const { generation, conflicts } = JSON.parse(data) as { generation?: unknown; conflicts?: unknown };
    return typeof generation === 'number' ? { generation, conflicts: conflicts === true } : undefined;
  } catch {
    return undefined;
  }
}

interface ServerSentEvent {
  type: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body into events (the `event:` and `data:` fields) until it ends
 * or `signal` aborts: the body is cancelled then, whatever the fetch does with its own signal.
 */
async function* serverSentEvents(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  // Cancelling rejects only with the error that already ended the stream, which `connect` handles.
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel);
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: ServerSentEvent = { type: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) continue; // a comment
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event.type = value;
          else if (field === 'data') data.push(value);
        }
        event.data = data.join('\n');
        yield event;
      }
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => undefined); // closes the connection, however the loop ended
  }
}
