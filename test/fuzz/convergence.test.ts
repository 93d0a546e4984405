import { afterAll, describe, it } from 'vitest';
import { assertFuzz, FIXED_SEEDS, formatTotals, fuzzSettings, timeoutFor } from './fuzz-run';

/**
 * The seeded convergence fuzz: random writes, syncs and faults over 3–4 replicas and a
 * restartable SQLite (or, with FUZZ_STORE=postgres, PostgreSQL) server, judged by the oracle (see harness.ts). By default a few fixed seeds
 * and one random seed, short; FUZZ_SEED / FUZZ_RUNS / FUZZ_OPS run one seed as long as asked
 * (`npm run fuzz`). A failure prints the seed, the shrunk op log and the command that replays it.
 */
const DEFAULTS = { runs: 12, ops: 30 };
const custom = ['FUZZ_SEED', 'FUZZ_RUNS', 'FUZZ_OPS', 'FUZZ_PATH', 'FUZZ_STORE', 'FUZZ_RESTORE'].some(
  (name) => process.env[name],
);

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
