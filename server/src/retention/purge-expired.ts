import type { PurgeReport, Store } from '../storage/store';
import { RETENTION_DEFAULTS } from './retention-options';

export interface PurgeSettings {
  periodMs?: number;
  batch?: number;
  now?: () => Date;
  /** Called after every batch, with the totals so far (for progress). */
  onBatch?: (totals: PurgeTotals) => void;
}

export type PurgeTotals = Omit<PurgeReport, 'more'>;

/**
 * Purges what the retention period no longer keeps (see `Store.purge`), a bounded batch per
 * transaction, letting other work run between batches so pushes never wait long behind it.
 * Returns how many of each kind it removed.
 */
export async function purgeExpired(store: Store, settings: PurgeSettings = {}): Promise<PurgeTotals> {
  const periodMs = settings.periodMs ?? RETENTION_DEFAULTS.periodMs;
  const now = (settings.now ?? (() => new Date()))().getTime();
  const query = {
    before: new Date(now - periodMs).toISOString(),
    replicasBefore: new Date(now - 2 * periodMs).toISOString(),
    limit: settings.batch ?? RETENTION_DEFAULTS.batch,
  };
  const totals: PurgeTotals = { tombstones: 0, moves: 0, conflicts: 0, replicas: 0 };
  for (let more = true; more;) {
    const { more: left, ...report } = await store.purge(query);
    for (const kind of Object.keys(totals) as (keyof PurgeTotals)[]) totals[kind] += report[kind];
    settings.onBatch?.({ ...totals });
    more = left;
    // Pushes and pulls waiting on the store go before the next batch.
    if (more) await new Promise((resolve) => setImmediate(resolve));
  }
  return totals;
}
