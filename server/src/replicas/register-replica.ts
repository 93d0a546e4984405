import type { Identity } from '../auth/identity';
import type { Store } from '../storage/store';
import { hashReplicaSecret, newReplicaSecret } from './replica-credential';

/** What the server knows of a replica when it registers. */
export interface ReplicaRegistration {
  /** The registration request as received: read its headers to identify the replica. */
  request: Request;
  /** The verified identity registering it; `undefined` on a server without `auth`. */
  identity: Identity | undefined;
}

export interface RegistrationEnvironment {
  store: Store;
  newId: () => string;
  now: () => Date;
  /** The priority a new replica gets, decided from its registration request. */
  priorityOf: (registration: ReplicaRegistration) => number | Promise<number>;
  /** The fingerprint of the partition an identity downloads; null without partitions. */
  partitionOf: (identity: Identity | undefined) => string | null;
}

export interface RegisteredReplica {
  replicaId: string;
  /** Handed out here once: the store keeps only its hash. */
  secret: string;
  priority: number;
}

/**
 * Registers a new replica for `identity` (for good: it is used only with that subject's tokens):
 * a fresh id and secret, and its priority. A priority that is not a
 * number from 0 to 100 is a setup mistake of the server, not of the replica: it fails the
 * registration as an unexpected error and stores nothing.
 */
export async function registerReplica(
  env: RegistrationEnvironment,
  request: Request,
  identity: Identity | undefined,
): Promise<RegisteredReplica> {
  const replicaId = env.newId();
  const priority = await env.priorityOf({ request, identity });
  if (typeof priority !== 'number' || !(priority >= 0 && priority <= 100)) {
    throw new Error(`replicaPriority must give a number from 0 to 100, got ${JSON.stringify(priority)}`);
  }
  const createdAt = env.now().toISOString();
  const secret = newReplicaSecret();
  await env.store.transaction((tx) =>
    tx.putReplica({
      replicaId,
      priority,
      createdAt,
      lastSyncAt: null,
      lastAppliedLocalGeneration: 0,
      lastPulledGeneration: 0,
      secretHash: hashReplicaSecret(secret),
      subject: identity?.subject ?? null,
      // Its first download is of the partition its identity sees now.
      partition: env.partitionOf(identity),
    }),
  );
  return { replicaId, secret, priority };
}
