import { describe, expect, it } from 'vitest';
import { createStatus } from '../../client/src/status';
import { createStatusCounts } from '../../client/src/status-counts';
import type { Tables } from '../../client/src/storage/replica-db';
import type { ReplicaState } from '../../client/src/storage/replica-state';

/** A database whose outbox counts answer when the test says, in any order. */
function heldCounts() {
  const answers: ((count: number) => void)[] = [];
  const table = (name: string) => ({
    count: () => new Promise<number>((resolve) => answers.push(resolve)),
    where: () => ({ equals: () => ({ toArray: async () => [] }) }),
    name,
  });
  return { db: { table } as unknown as Tables, answers };
}

describe('the status counts', () => {
  it('a count begun earlier but answered later never hides a newer one', async () => {
    const { db, answers } = heldCounts();
    const status = createStatus();
    const state = { get: async () => 'r-1', set: async () => undefined } as unknown as ReplicaState;
    const counts = createStatusCounts({ db, state, status, log: () => undefined });
    const before = counts.recount(); // begun before a write: it will read 0
    const after = counts.recount(); // begun after it: it will read 1
    await expect.poll(() => answers.length).toBe(2);
    answers[1]!(1);
    await after;
    answers[0]!(0);
    await before;
    expect(status.get().pending).toBe(1);
  });
});
