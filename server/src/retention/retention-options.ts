/** How long the server keeps what only old replicas could still need. */
export interface RetentionOptions {
  /**
   * The retention period: a replica not seen for longer is expired, settled conflict entries
   * older than it and tombstones every live replica has downloaded are purged, and records of
   * replicas not seen for twice as long are removed. Default 14 days.
   */
  periodMs?: number;
  /** How often the server purges by itself; 0 purges only on demand. Default every hour. */
  purgeEveryMs?: number;
  /** Most records of each kind removed per store transaction. Default 1,000. */
  batch?: number;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export const RETENTION_DEFAULTS = { periodMs: 14 * DAY_MS, purgeEveryMs: 60 * 60 * 1000, batch: 1_000 } as const;
