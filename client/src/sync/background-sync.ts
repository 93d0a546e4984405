import { createRealtime } from './realtime';
import { createScheduler, type SchedulerOptions } from './scheduler';
import type { Transport } from './transport';

export interface BackgroundSyncOptions extends Omit<SchedulerOptions, 'onOnline'> {
  transport: Pick<Transport, 'events'>;
  /** Keep the server's event stream open while started, and sync on its pokes. */
  realtime: boolean;
  /** An event stream silent this long is opened again (see `RealtimeOptions.staleMs`). */
  staleMs: number;
  /** A poke said the conflict log changed (an entry may be added or settled without a row changing). */
  onConflicts(): void;
}

/**
 * What only the leading tab runs: the scheduler, and the realtime stream whose pokes sync at
 * once. When the network comes back the stream reconnects without waiting out its backoff.
 */
export function createBackgroundSync(options: BackgroundSyncOptions) {
  const realtime = createRealtime({
    ...options,
    onPoke: (generation, conflicts) => {
      if (conflicts) options.onConflicts();
      scheduler.poke(generation);
    },
  });
  const scheduler = createScheduler({ ...options, onOnline: () => realtime.retry() });
  return {
    start() {
      scheduler.start();
      if (options.realtime) realtime.start();
    },
    stop() {
      scheduler.stop();
      realtime.stop();
    },
    /** A local write happened (here or in another tab). */
    nudge: () => scheduler.nudge(),
    /** Stops for good, network listeners included. */
    close: () => scheduler.close(),
  };
}
