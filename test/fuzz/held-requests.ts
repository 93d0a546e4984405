interface Held {
  replica: number;
  /** How many requests had completed when this one was held: any completion after it means it was overtaken. */
  since: number;
  release(): void;
}

/**
 * The `hold` fault: requests kept back until another request overtakes them, or until nothing
 * else can move (every syncing replica waits on one), when they go newest first. Each reordering
 * is counted.
 */
export function createHeldRequests(count: (kind: 'reordered') => void) {
  const active = new Map<number, number>();
  const held: Held[] = [];
  let completions = 0;

  const activeReplicas = () => [...active.values()].filter((n) => n > 0).length;

  /** Releases held requests that were overtaken, or all of them (newest first) when nothing else can move. */
  const releaseHeld = () => {
    for (const entry of [...held]) {
      if (completions > entry.since) {
        held.splice(held.indexOf(entry), 1);
        count('reordered');
        entry.release();
      }
    }
    if (held.length > 0 && held.length >= activeReplicas()) {
      if (held.length > 1) count('reordered');
      for (const entry of held.splice(0).reverse()) entry.release();
    }
  };
  const hold = (replica: number) =>
    new Promise<void>((release) => {
      held.push({ replica, since: completions, release });
      releaseHeld();
    });

  return {
    hold,
    releaseHeld,
    /** A request was answered: every request held before now has been overtaken. */
    completed() {
      completions++;
    },
    beginSync(replica: number) {
      active.set(replica, (active.get(replica) ?? 0) + 1);
    },
    endSync(replica: number) {
      active.set(replica, (active.get(replica) ?? 1) - 1);
      releaseHeld();
    },
  };
}
