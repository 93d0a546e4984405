import type { PurgeReport, Store } from '../storage/store';
import { checkRetention, type RetentionOptions } from './retention-options';

export interface PurgeSettings extends Pick<RetentionOptions, 'periodMs' | 'batch'> {
  now?: () => Date;
  /** Called after every batch, with the totals so far (for progress). */
  onBatch?: (totals: PurgeTotals) => void;
}

export type PurgeTotals = Omit<PurgeReport, 'more'>;

/**
 * Purges what the retention period no longer keeps (see `Store.purge`) — give it the server's
 * own `periodMs`: a shorter one would purge tombstones replicas still within the server's period
 * need — a bounded batch per
 * transaction, letting other work run between batches so pushes never wait long behind it.
 * Returns how many of each kind it removed.
 */
export async function purgeExpired(store: Store, settings: PurgeSettings = {}): Promise<PurgeTotals> {
  const { periodMs, batch } = checkRetention({ periodMs: settings.periodMs, batch: settings.batch });
  const now = (settings.now ?? (() => new Date()))().getTime();
  const query = { before: new Date(now - periodMs).toISOString(), limit: batch };
  const totals: PurgeTotals = { tombstones: 0, moves: 0, conflicts: 0 };
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
