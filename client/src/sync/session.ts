import { ConcordError } from '@concord/shared';

/** The replica as the server knows it: its id, its credential, and the store it synced with. */
export interface Session {
  replicaId: string;
  secret: string;
  epoch: string;
}

/** Refuses an answer from a server whose store is not the one this replica synced with. */
export function checkEpoch(session: Session, epoch: string): void {
  if (epoch !== session.epoch) {
    throw new ConcordError('epoch_changed', `the server's store changed (epoch ${epoch}, expected ${session.epoch})`);
  }
}
