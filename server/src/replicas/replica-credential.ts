import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConcordError } from '@concord/shared';
import type { Identity } from '../auth/identity';
import type { ReplicaRecord } from '../storage/store';

/** A new replica secret: 256 random bits, handed to the replica once, at registration. */
export function newReplicaSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps of a secret: its SHA-256, so a copy of the database cannot act as any replica. */
export function hashReplicaSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * The replica a request acts for, once its secret is proven. A replicaId alone proves nothing:
 * ids are public (the conflict log names them). Unknown ids are `unknown_replica`, so a replica
 * that a restored or replaced store forgot registers anew; a wrong or missing secret is
 * `unauthorized` and changes nothing. On a server with `auth`, a replica belongs to the subject
 * that registered it: another subject is `forbidden`, and a replica registered while the server
 * ran open is unknown to every identity (it registers anew, keeping its rows and pending changes).
 */
export function authenticateReplica(
  replica: ReplicaRecord | undefined,
  replicaId: string,
  secret: string | undefined,
  identity: Identity | undefined,
): ReplicaRecord {
  if (!replica || (identity && replica.subject === null)) {
    throw new ConcordError(
      'unknown_replica',
      `replica "${replicaId}" is not registered${replica ? ' to an identity' : ''}`,
    );
  }
  const expected = replica.secretHash === null ? undefined : Buffer.from(replica.secretHash, 'hex');
  const given = Buffer.from(hashReplicaSecret(secret ?? ''), 'hex');
  if (!expected || !secret || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ConcordError('unauthorized', `the credential of replica "${replicaId}" is not valid`);
  }
  if (identity && replica.subject !== identity.subject) {
    throw new ConcordError('forbidden', `replica "${replicaId}" belongs to another identity`);
  }
  return replica;
}
