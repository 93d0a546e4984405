import type { Schema, TableChecksum } from '@concord/shared';
import { lastSeen, seenBefore } from '../replicas/replica-expiry';
import type { ReplicaRecord, Store } from '../storage/store';
import { checkRetention, type RetentionOptions } from '../retention/retention-options';

/**
 * What a replica's record says of it: `ok`; `expired` (not seen within the retention period: it
 * downloads afresh on its next sync); `purged` (a purge passed its download cursor: the same);
 * `ahead` (its cursor is past the store's newest generation: the store went back in time, restored
 * from a backup, and the replica reinitializes with upload on its next sync).
 */
export type ReplicaHealth = 'ok' | 'expired' | 'purged' | 'ahead';

export interface ReplicaCheck {
  replica: ReplicaRecord;
  health: ReplicaHealth;
}

export interface StoreValidation {
  /** Per downloaded table: the count and checksum of every live row (what a replica seeing every row holds). */
  tables: Map<string, TableChecksum>;
  /** How many replica records are in each state. */
  replicas: Record<ReplicaHealth, number>;
}

export interface ValidateReplicasSettings extends Pick<RetentionOptions, 'periodMs'> {
  now?: () => Date;
  /** Called with every replica's record and what it says, in id order. */
  onReplica?: (check: ReplicaCheck) => void;
}

/**
 * Checks every replica's record against the store, a page of records at a time, and sums each
 * table's rows as `replica.validate()` compares them.
 */
export async function validateReplicas(
  store: Store,
  schema: Schema,
  settings: ValidateReplicasSettings = {},
): Promise<StoreValidation> {
  const { periodMs } = checkRetention({ periodMs: settings.periodMs });
  const cutoff = new Date((settings.now ?? (() => new Date()))().getTime() - periodMs).toISOString();
  const { generation } = await store.meta();
  const purged = await store.transaction((tx) => tx.purgedUpTo());
  const health = (replica: ReplicaRecord): ReplicaHealth => {
    if (replica.lastPulledGeneration > generation) return 'ahead';
    if (seenBefore(replica, cutoff)) return 'expired';
    if (replica.lastPulledGeneration > 0 && replica.lastPulledGeneration < purged) return 'purged';
    return 'ok';
  };
  const replicas: Record<ReplicaHealth, number> = { ok: 0, expired: 0, purged: 0, ahead: 0 };
  for (let after: string | undefined; ;) {
    const page = await store.listReplicas({ after, limit: 1_000 });
    for (const replica of page) {
      const check = { replica, health: health(replica) };
      replicas[check.health] += 1;
      settings.onReplica?.(check);
    }
    if (page.length < 1_000) break;
    after = page.at(-1)!.replicaId;
  }
  const downloaded = schema.tableNames.filter((name) => schema.tables[name]!.direction !== 'upload-only');
  return { tables: await store.checksums({ tables: downloaded }), replicas };
}

/** One line telling what a replica's record says. */
export function describeCheck({ replica, health }: ReplicaCheck): string {
  const who = `${replica.replicaId}${replica.subject === null ? '' : ` (${replica.subject})`}`;
  const where = `last seen ${lastSeen(replica)}, cursor ${replica.lastPulledGeneration}`;
  const says: Record<ReplicaHealth, string> = {
    ok: 'ok',
    expired: 'expired: not seen within the retention period, it downloads afresh on its next sync',
    purged: 'a purge passed its cursor: it downloads afresh on its next sync',
    ahead:
      "its cursor is past the store's newest generation (the store was restored from a backup): it reinitializes with upload on its next sync",
  };
  return `${who}: ${where}: ${says[health]}`;
}
