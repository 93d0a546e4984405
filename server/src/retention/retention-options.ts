/** How long the server keeps what only old replicas could still need. */
export interface RetentionOptions {
  /**
   * The retention period: a replica not seen for longer is expired, and settled conflict
   * entries older than it and tombstones every live replica has downloaded are purged.
   * Default 14 days.
   */
  periodMs?: number;
  /** How often the server purges by itself; 0 purges only on demand. Default every hour. */
  purgeEveryMs?: number;
  /** Most tombstones and conflict entries removed per store transaction. Default 1,000. */
  batch?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const RETENTION_DEFAULTS = { periodMs: 14 * DAY_MS, purgeEveryMs: 60 * 60 * 1000, batch: 1_000 } as const;

/**
 * Retention options with their defaults, checked: unknown keys, and values that are not positive
 * numbers (`purgeEveryMs` may be 0), are errors. A period of 0 would purge what live replicas need.
 */
export function checkRetention(options: RetentionOptions = {}): Required<RetentionOptions> {
  const given = Object.entries(options).filter(([, value]) => value !== undefined);
  for (const [name, value] of given) {
    if (!Object.hasOwn(RETENTION_DEFAULTS, name)) {
      throw new Error(`retention: unknown option "${name}"; use ${Object.keys(RETENTION_DEFAULTS).join(', ')}`);
    }
    if (
      typeof value !== 'number' ||
      !(value >= 0) ||
      !Number.isFinite(value) ||
      (name !== 'purgeEveryMs' && value === 0)
    ) {
      throw new Error(`retention.${name} must be a positive number, got ${JSON.stringify(value)}`);
    }
  }
  return { ...RETENTION_DEFAULTS, ...Object.fromEntries(given) };
}
