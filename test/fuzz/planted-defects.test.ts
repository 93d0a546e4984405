import { describe, expect, it } from 'vitest';
import type { ConflictEntry } from '@concord/shared';
import type { Store, StoreTransaction } from '@concord/server';
import { checkFuzz } from './fuzz-run';
import { OracleFailure, runCase, type RunOptions } from './harness';
import type { WireDefect } from './network';
import type { FuzzCase, Op } from './ops';
import { undoneResolutions } from './oracle';

/** A test that cannot fail is a defect: these plant bugs and assert that the oracle reports them. */

type PushBody = { changes: { table: string; rowguid: string; op: string }[] };

/** A wire that acknowledges every push as applied but hands the server an empty batch. */
const acknowledgeWithoutApplying: WireDefect = (request) => {
  if (request.route !== 'push') return undefined;
  const body = request.body as PushBody;
  return (async () => {
    const answer = (await (await request.forward({ ...body, changes: [] })).json()) as Record<string, unknown>;
    const results = body.changes.map((change) => ({
      table: change.table,
      rowguid: change.rowguid,
      outcome: 'applied',
      generation: 1,
      deleted: change.op === 'delete',
    }));
    return Response.json({ ...answer, results });
  })();
};

/** A store that never writes the conflict log. */
const forgetConflicts = (store: Store): Store =>
  Object.assign(Object.create(store) as Store, {
    transaction: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
      store.transaction((tx) => work({ ...bind(tx), addConflicts: async () => undefined })),
  });

/** The transaction's methods bound to it, so that a spread copy still works. */
function bind(tx: StoreTransaction): StoreTransaction {
  const proto = Object.getPrototypeOf(tx) as object;
  const names = [...Object.keys(tx), ...Object.getOwnPropertyNames(proto)] as (keyof StoreTransaction)[];
  return Object.fromEntries(
    names.map((name) => [name, typeof tx[name] === 'function' ? (tx[name] as () => unknown).bind(tx) : tx[name]]),
  ) as unknown as StoreTransaction;
}

const config: FuzzCase['config'] = {
  replicas: 3,
  resolver: 'priority',
  ranked: false,
  maxUploadChanges: 1000,
  maxDownloadChanges: 1000,
};
const insert = (replica: number, row: number): Op => ({
  kind: 'tx',
  replica,
  writes: [{ kind: 'insert', table: 'notes', row, columns: ['title', 'rank'], salt: 1 }],
});
const sync = (...replicas: number[]): Op => ({ kind: 'sync', replicas, concurrent: false, twice: false });

async function verdict(fuzzCase: FuzzCase, options: RunOptions): Promise<OracleFailure> {
  const error = await runCase(fuzzCase, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(OracleFailure);
  return error as OracleFailure;
}

describe('the fuzz oracle catches planted defects', () => {
  it('a transport that acknowledges pushes without applying them fails convergence', async () => {
    const failure = await verdict({ config, ops: [insert(0, 1), sync(0, 1)] }, { defect: acknowledgeWithoutApplying });
    expect(failure.checks).toContain('convergence');
    expect(failure.message).toMatch(/notes\/n1: server undefined, replica/);
  });

  it('a store that drops the conflict log fails the accounting of the losing write', async () => {
    const failure = await verdict(
      { config, ops: [insert(0, 1), insert(1, 1), sync(0, 1)] },
      { wrapStore: forgetConflicts },
    );
    expect(failure.checks).toEqual(['accounting']);
    expect(failure.message).toMatch(/write #2 by r1: upsert notes\/n1 .* is lost/);
  });

  it('the same run without a planted defect passes', async () => {
    const report = await runCase({ config, ops: [insert(0, 1), insert(1, 1), sync(0, 1)] });
    expect(report.conflicts).toHaveLength(1);
  });

  it('the generated fuzz finds the broken transport and shrinks it to a short op log', async () => {
    const details = await checkFuzz({ seed: 42, runs: 20, ops: 20 }, { defect: acknowledgeWithoutApplying });
    expect(details.failed).toBe(true);
    const [counterexample] = details.counterexample as [FuzzCase];
    expect(counterexample.ops.length).toBeLessThanOrEqual(3);
    expect((details.errorInstance as OracleFailure).checks).toContain('convergence');
  }, 120_000);
});

describe('the resolutions check', () => {
  const entry: ConflictEntry = {
    id: 'c1',
    table: 'notes',
    rowguid: 'n1',
    columns: ['rank'],
    type: 'update-update',
    resolver: 'priority',
    status: 'resolved',
    winner: 'r1',
    loser: 'r2',
    winningValues: { rank: 10 },
    losingValues: { rank: 7 },
    reason: 'priority: the server version wins',
    replicaId: 'r2',
    localGeneration: 1,
    generation: 2,
    createdAt: '2024-01-01T00:00:00.000Z',
  };

  it('reports a value that lost a logged conflict but is final, as a re-sent losing change leaves it', () => {
    expect(undoneResolutions([entry], { notes: { n1: { rank: 7 } } })).toEqual([
      'notes/n1.rank=7 lost conflict c1 but is final',
    ]);
    expect(undoneResolutions([entry], { notes: { n1: { rank: 10 } } })).toEqual([]);
  });
});
