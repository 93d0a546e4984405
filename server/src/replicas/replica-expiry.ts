import type { ReplicaRecord } from '../storage/store';

/** When a replica was last seen: its last download, or else its registration. */
export function lastSeen(replica: ReplicaRecord): string {
  return replica.lastSyncAt ?? replica.createdAt;
}

/** Whether a replica was last seen before `cutoff` (ISO 8601): it is expired. */
export function seenBefore(replica: ReplicaRecord, cutoff: string): boolean {
  return lastSeen(replica) < cutoff;
}
