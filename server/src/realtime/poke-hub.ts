/**
 * Fans the newest committed generation out to every open event stream of this process. A poke
 * carries no data: a replica that hears one runs a sync round. Generations only move forward,
 * so a poke for a generation already announced is dropped.
 */
export interface PokeHub {
  /** Announces that changes up to `generation` are committed. */
  publish(generation: number): void;
  /** Hears every later announcement until the returned function is called. */
  subscribe(listener: (generation: number) => void): () => void;
}

export function createPokeHub(): PokeHub {
  const listeners = new Set<(generation: number) => void>();
  let newest = 0;
  return {
    publish(generation) {
      if (generation <= newest) return;
      newest = generation;
      for (const listener of listeners) listener(generation);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
