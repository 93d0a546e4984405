import type { EventKind } from './ops';
import type { FuzzServer } from './fuzz-server';
import type { PushBody, PushChange } from './push-body';

/** A push the network delivers (again) later: `wait` more answered pushes of its replica first. */
export interface LateCopy {
  replica: number;
  url: string;
  init: RequestInit;
  wait: number;
}

/** Hands a request to the server; `copy` marks a late copy, whose refusal the replica never sees. */
export type Forward = (
  replica: number,
  route: string,
  url: string,
  init: RequestInit,
  copy?: boolean,
) => Promise<Response>;

/**
 * The late copies of pushes the network still holds (faults `late-copy` and `delayed`), and the
 * check of the answer each one gets when it finally arrives. Wrong answers go to `findings`.
 */
export function createLateCopies(
  server: FuzzServer,
  forwardTo: Forward,
  findings: string[],
  count: (kind: EventKind) => void,
) {
  const late: LateCopy[] = [];

  /**
   * Delivers a late copy of a push, its answer going nowhere, and checks that answer against the
   * replica's watermark at the server just before: a range applied already is answered
   * `duplicate` change by change; a range starting past the watermark + 1 is refused with `409
   * generation_gap` (naming the watermark) and changes nothing; so does one whose cursor names a
   * commit the store no longer has (`409 cursor_unknown`); otherwise its fresh changes apply
   * (the original never arrived, or a restore lost it). A replica the store does not know (it
   * was restored to before the replica registered) is `404 unknown_replica`.
   */
  const deliverLate = (copy: LateCopy) =>
    server.exclusive(async () => {
      const body = JSON.parse(copy.init.body as string) as PushBody;
      const record = await server.store.getReplica(body.replicaId);
      const cursorKnown = !body.after || (await server.store.commitAt(body.after)) === body.commit;
      const response = await forwardTo(copy.replica, 'push', copy.url, copy.init, true);
      const text = await response.text();
      const answer = JSON.parse(text) as {
        code?: string;
        details?: { acknowledged?: number };
        acknowledged?: number;
        results?: { outcome: string }[];
      };
      const range = `[${body.fromLocalGeneration}..${body.toLocalGeneration}]`;
      const wrong = (expected: string) =>
        findings.push(
          `r${copy.replica}: a late copy of push ${range} (watermark ${record?.lastAppliedLocalGeneration}) should be ${expected}, got ${response.status} ${text.slice(0, 300)}`,
        );
      if (!record) {
        if (response.status === 404 && answer.code === 'unknown_replica') count('late:unknown-replica');
        else wrong('404 unknown_replica');
        return;
      }
      const watermark = record.lastAppliedLocalGeneration;
      const generationOf = (change: PushChange) => change.localGeneration ?? body.toLocalGeneration;
      if (!cursorKnown) {
        // Its cursor names a commit a restore took away: its bases belong to another history.
        const after = await server.store.getReplica(body.replicaId);
        if (response.status !== 409 || answer.code !== 'cursor_unknown') wrong('409 cursor_unknown');
        else if (after?.lastAppliedLocalGeneration !== watermark) wrong('refused without moving the watermark');
        else count('late:cursor');
        return;
      }
      if (body.fromLocalGeneration > watermark + 1) {
        const after = await server.store.getReplica(body.replicaId);
        if (response.status !== 409 || answer.code !== 'generation_gap' || answer.details?.acknowledged !== watermark)
          wrong(`409 generation_gap acknowledging ${watermark}`);
        else if (after?.lastAppliedLocalGeneration !== watermark) wrong('refused without moving the watermark');
        else count('late:gap');
        return;
      }
      if (response.status !== 200 || !answer.results) return void wrong('answered 200');
      const replays = body.changes.map(
        (change, i) => [generationOf(change) <= watermark, answer.results![i]?.outcome] as const,
      );
      if (replays.some(([old, outcome]) => old !== (outcome === 'duplicate'))) {
        return void wrong('duplicate exactly for the changes at or below the watermark');
      }
      const fresh =
        body.toLocalGeneration > watermark && body.changes.some((change) => generationOf(change) > watermark);
      if (answer.acknowledged !== (fresh ? body.toLocalGeneration : watermark)) {
        return void wrong(`acknowledged ${fresh ? body.toLocalGeneration : watermark}`);
      }
      count(fresh ? 'late:applied' : 'late:duplicate');
    });
  /** Delivers the replica's late copies that are due (all of them: every replica's, when `all`). */
  const deliverDue = async (replica: number | 'all') => {
    for (;;) {
      const index = late.findIndex(
        (copy) => (replica === 'all' || copy.replica === replica) && (replica === 'all' || copy.wait <= 0),
      );
      if (index < 0) return;
      await deliverLate(late.splice(index, 1)[0]!);
    }
  };

  return {
    /** Keeps a copy of a push, to deliver once `wait` more pushes of its replica were answered. */
    add(copy: LateCopy) {
      late.push(copy);
    },
    deliverDue,
    /**
     * One more push of this replica answered: late copies waiting for it count down. Says whether
     * one came due (synchronous, so a push with nothing due takes no extra turn of the event loop).
     */
    pushAnswered(replica: number): boolean {
      const due = late.filter((copy) => copy.replica === replica && copy.wait > 0);
      for (const copy of due) copy.wait--;
      return due.some((copy) => copy.wait === 0);
    },
  };
}
