import { backoffDelay, type Backoff } from './backoff';

/** A failed round is retried after `backoffDelay` (see `Backoff`). */
export interface SchedulerOptions extends Backoff {
  /** One sync round; a rejection counts as a failure. */
  round(): Promise<unknown>;
  /** Wait after a local write before syncing, so a burst of writes goes up together. */
  debounceMs: number;
  /** Sync at least this often while started. */
  intervalMs: number;
  /** The replica's download cursor: a poke at or below it brings nothing new. */
  receivedGeneration(): Promise<number>;
  /** Where `online` and `offline` events come from (the window in a browser). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Told of every `offline` event, started or not, until `close()`. */
  onOffline?(): void;
  /** Told of every `online` event, started or not, until `close()`; before the round it brings. */
  onOnline?(): void;
  /** Where failures that nothing else reports go (a poke checked after the database closed). */
  log(error: unknown): void;
}

/**
 * Background sync: after local writes (debounced), on pokes, on `online`, and on an interval.
 * Failures retry with exponential backoff and jitter; the outbox never stalls because one round
 * failed.
 */
export function createScheduler(options: SchedulerOptions) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let started = false;
  let failures = 0;
  let running = false;
  let nudged = false;

  const schedule = (delay: number) => {
    clearTimeout(timer);
    if (started) timer = setTimeout(tick, delay);
  };
  const tick = async () => {
    timer = undefined;
    running = true;
    nudged = false;
    try {
      await options.round();
      failures = 0;
      // A write during the round may have missed its upload: sync again soon, not at the interval.
      schedule(nudged ? options.debounceMs : options.intervalMs);
    } catch {
      failures++;
      schedule(backoffDelay(failures, options));
    } finally {
      running = false;
    }
  };
  const stop = () => {
    started = false;
    clearTimeout(timer);
  };
  /** The server announced new changes: sync now, backoff or not. */
  const syncNow = () => {
    if (!started) return;
    failures = 0;
    if (running) nudged = true;
    else schedule(0);
  };
  const offline = () => options.onOffline?.();
  const online = () => {
    options.onOnline?.();
    if (!started) return;
    failures = 0;
    schedule(0);
  };
  options.events?.addEventListener('offline', offline);
  options.events?.addEventListener('online', online);

  return {
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    stop,
    /** The server committed changes up to `generation`: sync now, unless this replica has them already. */
    poke(generation: number) {
      void options
        .receivedGeneration()
        .then((received) => {
          if (generation > received) syncNow();
        })
        .catch(options.log);
    },
    /** A local write happened: sync soon, unless a failure is being backed off. */
    nudge() {
      if (!started || failures > 0) return;
      if (running) nudged = true;
      else schedule(options.debounceMs);
    },
    /** Stops and stops listening to the network for good. */
    close() {
      stop();
      options.events?.removeEventListener('offline', offline);
      options.events?.removeEventListener('online', online);
    },
  };
}
