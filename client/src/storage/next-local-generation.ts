/** Where a run of local generations stands: the newest handed out, and how many changes it stamps so far. */
export interface LocalGenerations {
  localGeneration: number;
  /** Changes stamped with `localGeneration` in this run; 0 before the run's first. */
  used: number;
}

/**
 * The local generation of the next change of a run (one transaction, or one restamping of the
 * outbox): the run's first change takes a new generation, and so does every `size`-th after it,
 * so no generation holds more changes than one upload batch. Advances `run`; the caller must
 * write `run.localGeneration` to `_state` in the same transaction as the changes.
 */
export function nextLocalGeneration(run: LocalGenerations, size: number): number {
  if (run.used === 0 || run.used === size) {
    run.localGeneration++;
    run.used = 0;
  }
  run.used++;
  return run.localGeneration;
}
