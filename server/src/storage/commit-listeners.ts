import type { CommitListener } from './store';

/**
 * The listeners of one store's `onCommit`. A listener that throws affects neither the commit
 * nor the other listeners.
 */
export function createCommitListeners() {
  const listeners = new Set<CommitListener>();
  return {
    add(listener: CommitListener): () => void {
      // A wrapper, so the same function subscribed twice is called twice and unsubscribed once each.
      const entry: CommitListener = (generation, commit) => listener(generation, commit);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    emit(generation: number, commit: { conflicts: boolean }): void {
      for (const listener of [...listeners]) {
        try {
          listener(generation, commit);
        } catch {
          // Listeners are notified best-effort; a failing one must not stop the others.
        }
      }
    },
    clear(): void {
      listeners.clear();
    },
  };
}
