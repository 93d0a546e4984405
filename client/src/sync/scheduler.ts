import { backoffDelay, type Backoff } from './backoff';

/** A failed round is retried after `backoffDelay` (see `Backoff`). */
export interface SchedulerOptions extends Backoff {
  /** One sync round; a rejection counts as a failure. */
  round(): Promise<unknown>;
  /** Wait after a local write before syncing, so a burst of writes goes up together. */
  debounceMs: number;
  /** Sync at least this often while started. */
  intervalMs: number;
  /** Where `online` events come from (the window in a browser). */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

/**
 * Background sync: after local writes (debounced), on `online`, and on an interval. Failures
 * retry with exponential backoff and jitter; the outbox never stalls because one round failed.
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
  const online = () => {
    failures = 0;
    schedule(0);
  };

  return {
    start() {
      if (started) return;
      started = true;
      options.events?.addEventListener('online', online);
      schedule(0);
    },
    stop() {
      started = false;
      clearTimeout(timer);
      options.events?.removeEventListener('online', online);
    },
    /** The server announced new changes (or the network is back): sync now, backoff or not. */
    syncNow() {
      if (!started) return;
      failures = 0;
      if (running) nudged = true;
      else schedule(0);
    },
    /** A local write happened: sync soon, unless a failure is being backed off. */
    nudge() {
      if (!started || failures > 0) return;
      if (running) nudged = true;
      else schedule(options.debounceMs);
    },
  };
}
