import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { openReplica, type Replica, type ReplicaOptions } from '@concord/client';

let counter = 0;

export interface NodeReplicaOptions extends Omit<ReplicaOptions, 'url' | 'fetch' | 'indexedDB'> {
  /** How the replica reaches its server; it never falls back to the global `fetch`. */
  fetch: NonNullable<ReplicaOptions['fetch']>;
  /** Default `http://concord.test`: with an injected `fetch`, only the path matters. */
  url?: string;
  /** Reuse an IndexedDB factory to reopen the same database, as after a reload. */
  indexedDB?: IDBFactory;
}

/**
 * A replica in Node on its own fake-indexeddb (a fresh factory unless `indexedDB` is given), under
 * a name no other replica of this process has unless `name` is given, with its own `online` events.
 * Imports nothing from vitest, so benchmarks use it too.
 */
export function openNodeReplica(options: NodeReplicaOptions): Promise<Replica> {
  return openReplica({
    url: 'http://concord.test',
    indexedDB: new IDBFactory(),
    IDBKeyRange,
    name: `replica-${++counter}`,
    events: new EventTarget(),
    ...options,
  });
}
