import fc from 'fast-check';
import { caseArbitrary } from './case-arbitrary';
import { EVENT_KINDS, FAULT_KINDS } from './ops';
import { runCase, type RunOptions, type RunReport } from './harness';
import type { FuzzBackend } from './fuzz-server';

/** Totals over every run of this process (shrinking runs included). */
export const totals = {
  runs: 0,
  ops: 0,
  writes: 0,
  syncs: 0,
  failedSyncs: 0,
  faults: Object.fromEntries([...FAULT_KINDS, ...EVENT_KINDS].map((kind) => [kind, 0])) as Record<string, number>,
  conflicts: {} as Record<string, number>,
  failures: 0,
};

export function addToTotals(report: RunReport): void {
  totals.runs++;
  totals.ops += report.ops;
  totals.writes += report.writes;
  totals.syncs += report.syncs;
  totals.failedSyncs += report.failedSyncs;
  for (const [kind, n] of Object.entries(report.faults)) totals.faults[kind] = (totals.faults[kind] ?? 0) + (n ?? 0);
  for (const entry of report.conflicts) {
    const key = `${entry.type}/${entry.status}${entry.loser === null ? '/merged' : ''}`;
    totals.conflicts[key] = (totals.conflicts[key] ?? 0) + 1;
  }
}

export function formatTotals(): string {
  const conflicts = Object.values(totals.conflicts).reduce((a, b) => a + b, 0);
  const faults = Object.values(totals.faults).reduce((a, b) => a + b, 0);
  return [
    `runs ${totals.runs} (failed ${totals.failures}), ops ${totals.ops}, writes ${totals.writes}, syncs ${totals.syncs} (failed ${totals.failedSyncs})`,
    `faults ${faults}: ${JSON.stringify(totals.faults)}`,
    `conflicts ${conflicts}: ${JSON.stringify(totals.conflicts)}`,
  ].join('\n');
}

/**
 * The knobs: FUZZ_SEED, FUZZ_RUNS, FUZZ_OPS, FUZZ_PATH (replay a counterexample), FUZZ_TIME_LIMIT
 * (seconds).
 */
/** The seeds every default run replays. */
export const FIXED_SEEDS = [7, 1234, 20240101];

/** Generous: a run takes well under a second; shrinking a failure takes a few hundred runs more. */
export const timeoutFor = (settings: FuzzSettings) => 120_000 + settings.runs * 3_000;

export interface FuzzSettings {
  seed: number;
  runs: number;
  ops: number;
  path?: string;
  timeLimitMs?: number;
  /** The server's store (`FUZZ_STORE`): sqlite (default) or postgres. */
  backend?: FuzzBackend;
  /** Back up and restore the store during runs (`FUZZ_RESTORE`, see `RESTORE_DEFAULT`). */
  restore?: boolean;
}

/**
 * Whether runs back up and restore the server's store unless `FUZZ_RESTORE` says (1 or 0). On:
 * the cases the fuzz found recovery failing in are in restore-recovery.test.ts. `FUZZ_RESTORE=0`
 * leaves restores out, to look at the rest alone.
 */
export const RESTORE_DEFAULT = true;

export function fuzzSettings(defaults: { runs: number; ops: number }, env = process.env): FuzzSettings {
  const int = (name: string) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
    return value;
  };
  return {
    seed: int('FUZZ_SEED') ?? (Math.random() * 2 ** 31) | 0,
    runs: int('FUZZ_RUNS') ?? defaults.runs,
    ops: int('FUZZ_OPS') ?? defaults.ops,
    path: env.FUZZ_PATH || undefined,
    timeLimitMs: int('FUZZ_TIME_LIMIT') === undefined ? undefined : int('FUZZ_TIME_LIMIT')! * 1000,
    backend: backendOf(env.FUZZ_STORE),
    restore: env.FUZZ_RESTORE ? env.FUZZ_RESTORE === '1' : RESTORE_DEFAULT,
  };
}

function backendOf(raw: string | undefined): FuzzBackend {
  if (raw === undefined || raw === '' || raw === 'sqlite') return 'sqlite';
  if (raw === 'postgres') return 'postgres';
  throw new Error(`FUZZ_STORE must be sqlite or postgres, got "${raw}"`);
}

/**
 * Runs the property over `runs` generated cases from `seed`, shrinking a failure to its shortest
 * op log. Resolves to fast-check's run details; `assertFuzz` throws them as a readable failure.
 */
export async function checkFuzz(settings: FuzzSettings, options: RunOptions = {}) {
  const arbitrary = caseArbitrary(settings.ops, { restore: settings.restore ?? RESTORE_DEFAULT });
  const property = fc.asyncProperty(arbitrary, async (fuzzCase) => {
    try {
      addToTotals(
        await runCase(fuzzCase, { backend: settings.backend, verbose: process.env.FUZZ_VERBOSE === '1', ...options }),
      );
    } catch (error) {
      totals.failures++;
      throw error;
    }
  });
  return fc.check(property, {
    seed: settings.seed,
    numRuns: settings.runs,
    ...(settings.path ? { path: settings.path } : {}),
    plugins: settings.timeLimitMs ? [fc.interruptAfterTimeLimit(settings.timeLimitMs)] : [],
  });
}

export async function assertFuzz(settings: FuzzSettings, options: RunOptions = {}): Promise<void> {
  const details = await checkFuzz(settings, options);
  if (!details.failed) return;
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} FUZZ_OPS=${settings.ops} FUZZ_RUNS=1`;
  const message = fc.defaultReportMessage(details) ?? 'the fuzz property failed';
  const error = details.errorInstance;
  const verdict = error instanceof Error ? error.message : String(error);
  throw new Error(`${message}\n\n${verdict}\n\nreplay: ${replay} npx vitest run test/fuzz/convergence.test.ts`);
}
