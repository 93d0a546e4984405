/**
 * Runs async jobs one at a time, in arrival order. A store on a single connection needs it:
 * between the awaits of one transaction, no other job may touch the connection.
 */
export function createSerialQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return function enqueue<T>(job: () => Promise<T> | T): Promise<T> {
    const result = tail.then(job);
    tail = result.catch(() => undefined);
    return result;
  };
}
