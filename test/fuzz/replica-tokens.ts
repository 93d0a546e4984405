import { expiredToken, tokenFor } from '../support/tokens';

/** The subject replica `replica` acts for on the fuzz server: one identity per replica. */
export const subjectOf = (replica: number) => `device-${replica}`;

/** Every replica's tokens, by replica index: a valid one and one that has expired. */
export interface ReplicaTokens {
  fresh: readonly string[];
  expired: readonly string[];
}

/**
 * Signs every replica's tokens once, before the run: asking for a token then never waits on
 * crypto, so it adds no turn of the event loop that could reorder a run. Valid for an hour.
 */
export async function signReplicaTokens(replicas: number): Promise<ReplicaTokens> {
  const subjects = Array.from({ length: replicas }, (_, replica) => subjectOf(replica));
  return {
    fresh: await Promise.all(subjects.map((subject) => tokenFor(subject))),
    expired: await Promise.all(subjects.map((subject) => expiredToken(subject))),
  };
}
