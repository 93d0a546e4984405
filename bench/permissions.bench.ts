/**
 * The cost of upload permissions: the merge workload of `merge-throughput` (10,000 rows pushed
 * through the real HTTP path, an insert pass and an update pass, 1,000 changes a push) on a
 * server where every insert and update of the table is decided by a predicate of the row,
 * compared with the same server without permissions, alternated in the same process.
 */
import type { PermissionConfig } from '@concord/server';
import { createTestServer } from '../test/support/test-server';
import { REPEATS, median, perSecond, type BenchResult } from './bench';
import { TABLE, makeDataset, pushBothPasses, schema, type Dataset, type PassTimes } from './merge-passes';

const ROWS = 10_000;
const BATCH = 1_000;

/** A rule of the kind an app writes: look at a value of the row and a claim of the caller. */
const allowed = ({ row }: { row: Record<string, unknown> }) => typeof row.count === 'number' && row.count >= 0;
const PERMISSIONS: PermissionConfig = { [TABLE]: { insert: allowed, update: allowed } };

async function runMerge(data: Dataset, permissions?: PermissionConfig): Promise<PassTimes> {
  const server = createTestServer({ schema, ...(permissions && { permissions }) });
  try {
    const times = await pushBothPasses(server, data, BATCH);
    const { generation } = await server.store.meta();
    const expected = 2 * data.rowguids.length;
    if (generation !== expected)
      throw new Error(`expected generation ${expected}, got ${generation}: a change was refused`);
    return times;
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const warmup = makeDataset(2_000);
  await runMerge(warmup);
  await runMerge(warmup, PERMISSIONS);

  const data = makeDataset(ROWS);
  const plain: PassTimes[] = [];
  const checked: PassTimes[] = [];
  for (let i = 0; i < REPEATS; i++) {
    plain.push(await runMerge(data));
    checked.push(await runMerge(data, PERMISSIONS));
  }
  const rate = (times: PassTimes[], pass: keyof PassTimes) => perSecond(ROWS, median(times.map((t) => t[pass])));
  const rows = ROWS.toLocaleString('en-US');
  const figure = (pass: keyof PassTimes, what: string): BenchResult => {
    const baseline = { name: 'no permissions', value: rate(plain, pass) };
    const value = rate(checked, pass);
    return {
      name: `permissions: push ${rows} ${what}, a predicate per row`,
      value,
      unit: 'rows/s',
      baseline,
      ratio: value / baseline.value,
    };
  };
  return [figure('insertMs', 'new rows'), figure('updateMs', 'one-column updates')];
}
