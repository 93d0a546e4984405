import { useSyncExternalStore } from 'react';
import type { Replica, ReplicaStatus } from '@concord/client';

/** The replica's status, re-rendering on every change. */
export function useStatus(replica: Replica): ReplicaStatus {
  return useSyncExternalStore(replica.subscribe, () => replica.status);
}
