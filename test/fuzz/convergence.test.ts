import { afterAll, describe, it } from 'vitest';
import { assertFuzz, formatTotals, fuzzSettings, type FuzzSettings } from './fuzz-run';

/**
 * The seeded convergence fuzz: random writes, syncs and faults over 3–4 replicas and a
 * restartable SQLite (or PostgreSQL) server, judged by the oracle (see harness.ts). By default a few fixed seeds
 * and one random seed, short; FUZZ_SEED / FUZZ_RUNS / FUZZ_OPS run one seed as long as asked
 * (`npm run fuzz`). A failure prints the seed, the shrunk op log and the command that replays it.
 */
const FIXED_SEEDS = [7, 1234, 20240101];
const DEFAULTS = { runs: 12, ops: 30 };
const custom = ['FUZZ_SEED', 'FUZZ_RUNS', 'FUZZ_OPS', 'FUZZ_PATH', 'FUZZ_STORE', 'FUZZ_RESTORE'].some(
  (name) => process.env[name],
);

/** Generous: a run takes well under a second; shrinking a failure takes a few hundred runs more. */
const timeoutFor = (settings: FuzzSettings) => 120_000 + settings.runs * 3_000;

afterAll(() => {
  console.log(`convergence fuzz totals:\n${formatTotals()}`);
});

describe('convergence under faults', () => {
  if (custom) {
    const settings = fuzzSettings(DEFAULTS);
    it(
      `seed ${settings.seed}: ${settings.runs} runs of up to ${settings.ops} ops converge`,
      async () => {
        console.log(`fuzz seed ${settings.seed}, ${settings.runs} runs, up to ${settings.ops} ops`);
        await assertFuzz(settings);
      },
      timeoutFor(settings),
    );
    return;
  }
  for (const seed of FIXED_SEEDS) {
    const settings = { ...fuzzSettings(DEFAULTS), seed };
    it(`fixed seed ${seed}: ${settings.runs} runs converge`, () => assertFuzz(settings), timeoutFor(settings));
  }
  // The same harness over the PostgreSQL store: a restart closes the store and opens a new one on the database.
  const postgres = { ...fuzzSettings({ runs: 6, ops: 30 }), seed: FIXED_SEEDS[0]!, backend: 'postgres' as const };
  it(
    `PostgreSQL, fixed seed ${postgres.seed}: ${postgres.runs} runs converge`,
    () => assertFuzz(postgres),
    timeoutFor(postgres),
  );
  const random = fuzzSettings(DEFAULTS);
  it(
    `random seed ${random.seed}: ${random.runs} runs converge`,
    async () => {
      console.log(`fuzz random seed ${random.seed} (replay: FUZZ_SEED=${random.seed})`);
      await assertFuzz(random);
    },
    timeoutFor(random),
  );
});
