/** The part of the Web Locks API leadership needs (`navigator.locks`). */
export interface Locks {
  request(name: string, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

export interface Leadership {
  /** Gives up leadership (or the place in the queue for it); another tab takes over. */
  release(): void;
}

/**
 * Exactly one holder of the Web Lock `name` leads: it syncs for every tab of the origin that
 * shares the database. Every other tab waits in the lock's queue; when the leader closes,
 * crashes or is discarded the browser releases the lock and the next tab in line leads. Without
 * Web Locks (Node, old browsers) this instance leads at once.
 */
export function createLeadership(
  locks: Locks | undefined,
  name: string,
  onChange: (isLeader: boolean) => void,
): Leadership {
  let isLeader = false;
  let release: () => void = () => undefined;
  let released = false;
  const lead = () => {
    isLeader = true;
    onChange(true);
  };
  if (!locks) lead();
  else {
    const held = new Promise<void>((resolve) => (release = resolve));
    void locks
      .request(name, () => {
        if (released) return Promise.resolve();
        lead();
        return held;
      })
      // No lock to be had (a sandboxed frame): sync directly, as without Web Locks.
      .catch(() => {
        if (!released && !isLeader) lead();
      });
  }
  return {
    release() {
      released = true;
      release();
      if (isLeader) {
        isLeader = false;
        onChange(false);
      }
    },
  };
}
