import { afterAll, it } from 'vitest';
import { assertFuzz, FIXED_SEEDS, formatTotals, fuzzSettings, timeoutFor } from '../fuzz/fuzz-run';

/** The convergence fuzz's harness over the PostgreSQL store: a restart closes the store and opens a new one on the database. */
const postgres = { ...fuzzSettings({ runs: 6, ops: 30 }, {}), seed: FIXED_SEEDS[0]!, backend: 'postgres' as const };

afterAll(() => {
  console.log(`convergence fuzz totals (PostgreSQL):\n${formatTotals()}`);
});

it(
  `PostgreSQL, fixed seed ${postgres.seed}: ${postgres.runs} runs converge`,
  () => assertFuzz(postgres),
  timeoutFor(postgres),
);
