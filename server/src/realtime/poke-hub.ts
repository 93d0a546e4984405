/**
 * Fans commits out to every open event stream of this process. A poke carries no data: a replica
 * that hears one runs a sync round, and refreshes its conflicts when `conflicts` says the log
 * changed. Generations only move forward, so a poke for a generation already announced is
 * dropped — unless it announces conflict entries, which a commit may add without writing a row.
 */
export interface PokeHub {
  /** Announces that changes up to `generation` are committed, and whether conflict entries changed. */
  publish(generation: number, conflicts?: boolean): void;
  /** Hears every later announcement until the returned function is called. */
  subscribe(listener: (poke: Poke) => void): () => void;
}

export interface Poke {
  generation: number;
  conflicts: boolean;
}

export function createPokeHub(): PokeHub {
  const listeners = new Set<(poke: Poke) => void>();
  let newest = 0;
  return {
    publish(generation, conflicts = false) {
      if (generation <= newest && !conflicts) return;
      newest = Math.max(newest, generation);
      for (const listener of listeners) listener({ generation: newest, conflicts });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
