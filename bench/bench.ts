/**
 * The contract between `bench/run.ts` and every `bench/*.bench.ts` module: a module exports
 * `run()`, which measures and returns one result per figure. Targets are reported, never asserted.
 */
export interface BenchResult {
  /** What was measured, e.g. `merge: insert 10,000 rows`. */
  name: string;
  value: number;
  /** The unit of `value`, e.g. `rows/s`. */
  unit: string;
  /** The figure this one is compared with, measured in the same process. */
  baseline?: { name: string; value: number };
  /** `value / baseline.value`. */
  ratio?: number;
  /** The target in words, e.g. `≥ 25% of baseline and ≥ 50,000 rows/s`. */
  target?: string;
  /** Whether the target was met; absent when there is no target. */
  met?: boolean;
}

export interface BenchModule {
  run(): Promise<BenchResult[]>;
}

/** Measured repetitions of each figure (`BENCH_REPEATS`, default 3); benchmarks report the median. */
export const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));

/** Milliseconds since an arbitrary origin, high resolution. */
export function now(): number {
  return performance.now();
}

/** Items per second for `count` items done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Infinity;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
