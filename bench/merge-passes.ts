/**
 * The workload both merge benchmarks time: 10,000 rows pushed through the real HTTP path
 * (`app.request('/v1/push')`) in two passes, whatever store is behind the app.
 * - insert: every row is new (baseGeneration 0);
 * - update: one column of every row changes, based on the generation the insert returned.
 * Request bodies are built before the clock starts and responses are parsed after it stops:
 * only the server's work is timed.
 */
import { v7 as uuidv7 } from 'uuid';
import { PROTOCOL_VERSION, type FromReplicaChange, type RowValues } from '@concord/shared';
import type { TestServer } from '../test/support/test-server';
import type { BenchResult } from './bench';
import { TABLE, itemInsert, itemValues, schema } from './items';
import { timePushes } from './time-pushes';

export { TABLE, schema } from './items';

export interface Dataset {
  rowguids: string[];
  /** The values each row is inserted with. */
  inserted: RowValues[];
  /** The one column each update changes. */
  updates: RowValues[];
  /** The whole row after the update (what a baseline writes). */
  updated: RowValues[];
}

export interface PassTimes {
  insertMs: number;
  updateMs: number;
}

export function makeDataset(count: number): Dataset {
  const data: Dataset = { rowguids: [], inserted: [], updates: [], updated: [] };
  for (let i = 0; i < count; i++) {
    data.rowguids.push(uuidv7()); // rowguids are UUIDv7, as replicas make them
    const values = itemValues(i);
    data.inserted.push(values);
    data.updates.push({ count: i + 1 });
    data.updated.push({ ...values, count: i + 1 });
  }
  return data;
}

/** Registers a replica on `server`, then times both passes, `batch` changes per push. */
export async function pushBothPasses(server: TestServer, data: Dataset, batch: number): Promise<PassTimes> {
  const { replicaId, secret } = await server.register();

  let localGeneration = 0;
  const bodies = (change: (index: number, localGeneration: number) => FromReplicaChange): string[] => {
    const out: string[] = [];
    for (let start = 0; start < data.rowguids.length; start += batch) {
      const changes: FromReplicaChange[] = [];
      for (let i = start; i < Math.min(start + batch, data.rowguids.length); i++)
        changes.push(change(i, ++localGeneration));
      const from = changes[0]!.localGeneration;
      const to = changes[changes.length - 1]!.localGeneration;
      const push = { protocol: PROTOCOL_VERSION, schemaVersion: schema.version, replicaId, secret, changes };
      out.push(JSON.stringify({ ...push, fromLocalGeneration: from, toLocalGeneration: to }));
    }
    return out;
  };
  const send = async (pushes: readonly string[]) => {
    const { ms, results } = await timePushes(server, pushes);
    if (results.length !== data.rowguids.length)
      throw new Error(`expected ${data.rowguids.length} results, got ${results.length}`);
    const wrong = results.find((result) => result.outcome !== 'applied');
    if (wrong) throw new Error(`expected every change to be applied, got ${JSON.stringify(wrong)}`);
    return { ms, results };
  };

  const insert = await send(bodies((i, gen) => itemInsert(data.rowguids[i]!, data.inserted[i]!, gen)));
  const generations = new Map(insert.results.map((result) => [result.rowguid, result.generation]));
  const update = await send(
    bodies((i, gen) => ({
      table: TABLE,
      rowguid: data.rowguids[i]!,
      op: 'upsert',
      localGeneration: gen,
      baseGeneration: generations.get(data.rowguids[i]!)!,
      values: data.updates[i]!,
    })),
  );
  return { insertMs: insert.ms, updateMs: update.ms };
}

/** A throughput figure held against its target: a share of the baseline and a floor in rows/s. */
export function throughputTarget(
  name: string,
  value: number,
  baseline: { name: string; value: number },
  goal: { minRatio: number; minRowsPerSecond: number },
): BenchResult {
  const ratio = value / baseline.value;
  return {
    name,
    value,
    unit: 'rows/s',
    baseline,
    ratio,
    target: `≥ ${goal.minRatio * 100}% of baseline and ≥ ${goal.minRowsPerSecond.toLocaleString('en-US')} rows/s`,
    met: ratio >= goal.minRatio && value >= goal.minRowsPerSecond,
  };
}
