import { describe, expect, it } from 'vitest';
import type { ConflictEntry } from '@concord/shared';
import type { ReplicaRecord, Store, StoreTransaction } from '@concord/server';
import { checkFuzz } from './fuzz-run';
import { OracleFailure, runCase, type RunOptions } from './harness';
import type { WireDefect } from './network';
import type { FuzzCase, Op } from './ops';
import { phantomValues, undoneResolutions } from './oracle';
import { fixedConfig as config, insert, sync, update, arm } from './fixed-ops';

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

/** A store that logs every refusal but a spoiled change's (resolver `schema`): the change is dropped silently. */
const dropSpoiledChanges = (store: Store): Store =>
  Object.assign(Object.create(store) as Store, {
    transaction: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
      store.transaction((tx) => {
        const bound = bind(tx);
        return work({
          ...bound,
          addConflicts: (entries) =>
            bound.addConflicts(entries.filter((e) => !(e.type === 'failed-change' && e.resolver === 'schema'))),
        });
      }),
  });

/** A store that forgets every replica's watermark: each push, a late copy included, is applied as new. */
const forgetWatermarks = (store: Store): Store =>
  Object.assign(Object.create(store) as Store, {
    transaction: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
      store.transaction((tx) => {
        const bound = bind(tx);
        return work({
          ...bound,
          getReplica: async (replicaId) => {
            const record = await bound.getReplica(replicaId);
            return record && { ...record, lastAppliedLocalGeneration: 0 };
          },
        });
      }),
  });

/**
 * A server that hides that its store was restored: every cursor it ever handed out is still
 * "known" (whatever commit the restored store reached that generation under), and every
 * watermark stays where it once was. Replicas then never learn that the store lost their
 * acknowledged changes. Its memory outlives each store it wraps, as a proxy in front would.
 */
function hideRestores(): (store: Store) => Store {
  const commits = new Map<number, string>();
  const watermarks = new Map<string, number>();
  const remembered = (record: ReplicaRecord | undefined) =>
    record && {
      ...record,
      lastAppliedLocalGeneration: Math.max(record.lastAppliedLocalGeneration, watermarks.get(record.replicaId) ?? 0),
    };
  return (store) =>
    Object.assign(Object.create(store) as Store, {
      changesSince: async (query: Parameters<Store['changesSince']>[0]) => {
        // Each generation keeps the first commit ever named for it, whatever the store now has.
        const page = await store.changesSince(query);
        if (page.cursor > 0 && !commits.has(page.cursor)) commits.set(page.cursor, page.commit);
        return { ...page, commit: commits.get(page.cursor) ?? page.commit };
      },
      commitAt: async (generation: number) => commits.get(generation) ?? (await store.commitAt(generation)),
      getReplica: async (replicaId: string) => remembered(await store.getReplica(replicaId)),
      transaction: <T>(work: (tx: StoreTransaction) => Promise<T>) =>
        store.transaction((tx) => {
          const bound = bind(tx);
          return work({
            ...bound,
            getReplica: async (replicaId) => remembered(await bound.getReplica(replicaId)),
            putReplica: async (record) => {
              watermarks.set(
                record.replicaId,
                Math.max(record.lastAppliedLocalGeneration, watermarks.get(record.replicaId) ?? 0),
              );
              await bound.putReplica(record);
            },
          });
        }),
    });
}

/** The transaction's methods bound to it, so that a spread copy still works. */
function bind(tx: StoreTransaction): StoreTransaction {
  const proto = Object.getPrototypeOf(tx) as object;
  const names = [...Object.keys(tx), ...Object.getOwnPropertyNames(proto)] as (keyof StoreTransaction)[];
  return Object.fromEntries(
    names.map((name) => [name, typeof tx[name] === 'function' ? (tx[name] as () => unknown).bind(tx) : tx[name]]),
  ) as unknown as StoreTransaction;
}

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

  it('a store that drops a spoiled change instead of logging it fails the accounting of the spoiled write', async () => {
    // The wire spoils the insert (a number in its string column `title`): the server must refuse it and log it.
    const ops = [insert(0, 1), arm(0, { kind: 'poison', route: 'push', after: 0, arg: 0 }), sync(0, 1)];
    const failure = await verdict({ config, ops }, { wrapStore: dropSpoiledChanges });
    expect(failure.checks).toEqual(['accounting']);
    expect(failure.message).toMatch(/write #1 by r0: upsert notes\/n1 .* title=.* is lost/);

    const report = await runCase({ config, ops });
    expect(report.conflicts).toMatchObject([{ type: 'failed-change', resolver: 'schema', rowguid: 'n1' }]);
    expect(report.faults['poison:rejected']).toBe(1);
  });

  it('a store that forgets watermarks applies a late copy of a push again, and the wire reports it', async () => {
    const ops = [insert(0, 1), arm(0, { kind: 'late-copy', route: 'push', after: 0, arg: 0 }), sync(0)];
    const failure = await verdict({ config, ops }, { wrapStore: forgetWatermarks });
    expect(failure.checks).toContain('wire');
    expect(failure.message).toMatch(/a late copy of push \[1\.\.1\] \(watermark 1\) should be duplicate/);

    const report = await runCase({ config, ops });
    expect(report.faults['late:duplicate']).toBe(1);
  });

  it('a server that hides a restore from the replicas fails: the changes acknowledged after the backup are lost', async () => {
    const ops: Op[] = [
      insert(0, 1),
      sync(0, 1),
      { kind: 'backup' },
      // A copy of r0's second push after the backup arrives late: after the restore, at the heal.
      arm(0, { kind: 'late-copy', route: 'push', after: 1, arg: 3 }),
      update(0, 1),
      sync(0),
      insert(0, 2),
      sync(0),
      { kind: 'restore' },
      sync(1),
    ];
    const failure = await verdict({ config, ops }, { wrapStore: hideRestores() });
    expect(failure.checks).toEqual(expect.arrayContaining(['convergence', 'accounting']));
    expect(failure.message).toMatch(/write #2 by r0: upsert notes\/n1 .* is lost/);
    expect(failure.message).toMatch(/write #3 by r0: upsert notes\/n2 .* is lost/);

    // Without it, the late copy is refused (its cursor names a commit the restore took away), and
    // the replica notices the restore and sends both changes again.
    const report = await runCase({ config, ops });
    expect(report.faults).toMatchObject({ restored: 1, 'late:cursor': 1, 'refused:cursor_unknown': 1 });
  });

  it('a conflict the restore loses from the log still accounts for its loser', async () => {
    // r1's edit loses a conflict to r0's after the backup; the restore loses the entry, not the decision.
    const ops: Op[] = [
      insert(0, 1),
      sync(0, 1),
      { kind: 'backup' },
      update(0, 1),
      update(1, 1),
      sync(0, 1),
      { kind: 'restore' },
    ];
    const report = await runCase({ config, ops });
    expect(report.faults.restored).toBe(1);
    expect(report.conflicts).toEqual([]);
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

describe('the phantoms check', () => {
  it('reports a final value that no recorded write wrote to its row and column', () => {
    const write = {
      id: 1,
      replica: 0,
      table: 'notes' as const,
      rowguid: 'n1',
      op: 'upsert' as const,
      values: { title: 'w1', rank: 5 },
      created: true,
    };
    expect(phantomValues([write], { notes: { n1: { title: 'w1', rank: 5, pinned: true } } })).toEqual([]);
    expect(phantomValues([write], { notes: { n1: { title: 'w2' }, n2: { rank: 5 } } })).toEqual([
      'notes/n1.title="w2" is final, but no recorded write wrote it there',
      'notes/n2.rank=5 is final, but no recorded write wrote it there',
    ]);
  });
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
