import { ConcordError } from '@concord/shared';
import { newerStore } from '../versions/migrate-rows';
import type { ReplicaRecord, Store, StoreMeta } from '../storage/store';
import type { RouteEnvironment } from './route-environment';

/**
 * A replica not seen within the retention period, or one whose cursor a purge has passed, may
 * have missed tombstones that are gone: it can only download afresh (`expired_replica`). A
 * download from the start (`after` 0) is what it does then.
 */
export function refuseExpired(
  env: Pick<RouteEnvironment, 'expired'>,
  replica: ReplicaRecord,
  after: number,
  purged = 0,
): void {
  if (after === 0) return;
  if (env.expired(replica)) {
    throw new ConcordError(
      'expired_replica',
      `this replica was last seen at ${replica.lastSyncAt ?? replica.createdAt}, longer ago than the retention period: it downloads afresh`,
      { lastSyncAt: replica.lastSyncAt },
    );
  }
  if (purged > after) {
    // A purge passed this replica's cursor (it raced the expiry check, or the replica's own
    // database went back in time): deletes it never downloaded may be gone.
    throw new ConcordError(
      'expired_replica',
      "tombstones past this replica's cursor were purged: it downloads afresh",
      {
        lastSyncAt: replica.lastSyncAt,
      },
    );
  }
}

/**
 * A download continues only for the partition it was made for. The claims of the replica's
 * identity may have changed since (or the server's filters): then it must download again from the
 * start (`partition_changed`), and a download from the start records the partition it is for.
 */
export async function checkPartition(
  store: Store,
  replica: ReplicaRecord,
  after: number,
  partition: string | null,
): Promise<void> {
  if (replica.partition === partition) return;
  if (after > 0) throw partitionChanged();
  await store.transaction(async (tx) => {
    const current = await tx.getReplica(replica.replicaId);
    if (current) await tx.putReplica({ ...current, partition });
  });
}

/**
 * The store's rows must be stamped for this server's partition filters, and written for its
 * schema version. Another process sharing the database may have stamped them for other filters
 * since this one started, or migrated them to a newer schema (a deploy half done): then this one
 * serves nothing until it runs with the same filters and schema.
 */
export function checkStore(
  meta: StoreMeta,
  { partitions, schema }: Pick<RouteEnvironment, 'partitions' | 'schema'>,
): StoreMeta {
  if (meta.schemaVersion > schema.version) throw newerStore(meta.schemaVersion, schema.version);
  if (meta.partitions === partitions.filtersPrint) return meta;
  throw new ConcordError(
    'unavailable',
    "the store's rows are stamped for other partition filters than this server's: every server sharing a database must run with the same filters",
  );
}

export function partitionChanged(): ConcordError {
  return new ConcordError(
    'partition_changed',
    'the partition this replica downloaded for has changed: it downloads again from the start',
  );
}
