import { ConcordError } from '@concord/shared';

/**
 * A store's "closed" rule, the same for every store: once `close` is called, every call rejects
 * with `unavailable`, while calls already started finish before the database is released.
 */
export function createCloseGuard() {
  let closed = false;
  const running = new Set<Promise<unknown>>();
  return {
    get closed(): boolean {
      return closed;
    },
    run<T>(job: () => Promise<T>): Promise<T> {
      if (closed) return Promise.reject(new ConcordError('unavailable', 'the store is closed'));
      const result = job();
      const settled = result.catch(() => undefined);
      running.add(settled);
      void settled.then(() => running.delete(settled));
      return result;
    },
    async close(release: () => Promise<void>): Promise<void> {
      if (closed) throw new ConcordError('unavailable', 'the store is closed');
      closed = true;
      await Promise.all(running);
      await release();
    },
  };
}
