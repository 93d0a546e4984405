/** How a retry waits after failures: exponential, capped, with jitter. */
export interface Backoff {
  /** The first delay (ms); it doubles per consecutive failure. */
  backoffMs: number;
  /** The ceiling of the delay (ms). */
  maxBackoffMs: number;
  random: () => number;
}

/**
 * The wait before the next attempt after `failures` consecutive failures (at least 1): a random
 * point in the upper half of the capped exponential delay, so many replicas do not retry in step.
 */
export function backoffDelay(failures: number, { backoffMs, maxBackoffMs, random }: Backoff): number {
  const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** (failures - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}
