import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Replica } from '@concord/client';
import type { FromServerConflicts } from '@concord/shared';
import { purgeExpired } from '@concord/server';
import { partitionRows, partitionSchema, partitions } from '../support/partition-schema';
import { replicaRows, serverRows } from '../support/test-replica';
import type { TestServer } from '../support/test-server';
import { useTestWorld } from '../support/test-world';
import { TOKEN_SECRET, tokenFor } from '../support/tokens';

/**
 * The convergence fuzz with partitions: random identities (changing between syncs), writes inside
 * and outside each partition, and rows and parents moving between partitions, over replicas that
 * sync in random order, while days pass and the server purges what its retention period (14
 * days) no longer keeps — so replicas expire and download afresh. The oracle, written apart from
 * the server (`partitionRows`): after every sync that leaves nothing pending, a replica holds
 * exactly the server's rows its claims see — nothing leaked, nothing missing — and every change
 * the server refused is in the conflict log (or was purged from it).
 */
const world = useTestWorld();

const CLAIMS = [
  { branch: 'A', regions: ['X'] },
  { branch: 'B', regions: ['Y'] },
  { branch: ['A', 'B'], regions: ['X', 'Y'] },
  { branch: 'C', regions: [] },
  { branch: '*', regions: '*' },
] as const;
const BRANCHES = ['A', 'B', 'C'];
const REGIONS = ['X', 'Y', 'Z'];
const REPLICAS = 3;

type Op =
  | { kind: 'stock'; replica: number; branch: number }
  | { kind: 'moveStock' | 'moveOrder'; replica: number; row: number; to: number }
  | { kind: 'editStock' | 'deleteStock' | 'line'; replica: number; row: number }
  | { kind: 'order'; replica: number; region: number }
  | { kind: 'claims'; replica: number; claims: number }
  | { kind: 'sync' | 'validate'; replica: number }
  | { kind: 'wait'; days: number }
  | { kind: 'purge' };

const replica = fc.nat(REPLICAS - 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('stock' as const), replica, branch: fc.nat(2) }),
  fc.record({
    kind: fc.constantFrom('moveStock' as const, 'moveOrder' as const),
    replica,
    row: fc.nat(9),
    to: fc.nat(2),
  }),
  fc.record({
    kind: fc.constantFrom('editStock' as const, 'deleteStock' as const, 'line' as const),
    replica,
    row: fc.nat(9),
  }),
  fc.record({ kind: fc.constant('order' as const), replica, region: fc.nat(2) }),
  fc.record({ kind: fc.constant('claims' as const), replica, claims: fc.nat(CLAIMS.length - 1) }),
  { arbitrary: fc.record({ kind: fc.constant('sync' as const), replica }), weight: 3 },
  fc.record({ kind: fc.constant('validate' as const), replica }),
  fc.record({ kind: fc.constant('wait' as const), days: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('purge' as const) }),
);

const DAY = 24 * 60 * 60 * 1000;
const PERIOD = 14 * DAY;

async function run(ops: readonly Op[], initial: readonly number[]): Promise<void> {
  let at = Date.parse('2026-01-01T00:00:00.000Z');
  const now = () => new Date(at);
  const server = world.start({
    now,
    retention: { periodMs: PERIOD, purgeEveryMs: 0 },
    schema: partitionSchema,
    auth: { secret: TOKEN_SECRET },
    partitions,
    reviewer: (identity) => identity.claims.role === 'reviewer',
    log: (error) => {
      throw error;
    },
  });
  const claims = [...initial];
  const claimsOf = (i: number): Record<string, unknown> => CLAIMS[claims[i]!]!;
  const replicas: Replica[] = [];
  for (let i = 0; i < REPLICAS; i++) {
    replicas.push(await world.replica({ token: () => tokenFor(`device-${i}`, claimsOf(i)) }));
  }
  let ids = 0;
  let rejected = 0;
  let purgedRefusals = 0;
  const local = async (device: Replica, table: string, row: number) => {
    const keys = ((await device.db.table(table).toCollection().primaryKeys()) as string[]).sort();
    return keys.length === 0 ? undefined : keys[row % keys.length];
  };
  const sync = async (i: number) => {
    rejected += (await replicas[i]!.sync()).rejected;
    if ((await replicas[i]!.db.table('_changes').count()) > 0) return;
    const expected = partitionRows(await serverRows(server), claimsOf(i));
    expect(await replicaRows(replicas[i]!, server), `replica ${i} with claims ${JSON.stringify(claimsOf(i))}`).toEqual(
      expected,
    );
  };

  for (const step of ops) {
    const device = replicas['replica' in step ? step.replica : 0]!;
    switch (step.kind) {
      case 'stock':
        await device.db.table('stock').add({ id: `s${++ids}`, branchId: BRANCHES[step.branch], sku: 'x', qty: 1 });
        break;
      case 'moveStock':
      case 'moveOrder': {
        const table = step.kind === 'moveStock' ? 'stock' : 'orders';
        const id = await local(device, table, step.row);
        const change = table === 'stock' ? { branchId: BRANCHES[step.to] } : { region: REGIONS[step.to] };
        if (id) await device.db.table(table).update(id, change);
        break;
      }
      case 'editStock': {
        const id = await local(device, 'stock', step.row);
        if (id) await device.db.table('stock').update(id, { qty: ids++ });
        break;
      }
      case 'deleteStock': {
        const id = await local(device, 'stock', step.row);
        if (id) await device.db.table('stock').delete(id);
        break;
      }
      case 'order':
        await device.db.table('orders').add({ id: `o${++ids}`, region: REGIONS[step.region], note: 'n' });
        break;
      case 'line': {
        const order = await local(device, 'orders', step.row);
        if (order) await device.db.table('lines').add({ id: `l${++ids}`, orderId: order, qty: 1 });
        break;
      }
      case 'claims':
        claims[step.replica] = step.claims;
        break;
      case 'sync':
        await sync(step.replica);
        break;
      case 'validate':
        // After a round (its refusals counted), a replica holding its partition validates as equal.
        await sync(step.replica);
        expect(await replicas[step.replica]!.validate()).toMatchObject({ ok: true });
        break;
      case 'wait':
        at += step.days * DAY;
        break;
      case 'purge': {
        // Refusals logged and then purged count as logged.
        const before = await failedChanges(server);
        await purgeExpired(server.store, { periodMs: PERIOD, now, batch: 3 });
        purgedRefusals += before - (await failedChanges(server));
        break;
      }
    }
  }
  // Quiescence: everyone syncs until nothing is pending, then each holds exactly its partition.
  for (let round = 0; round < 2; round++) for (let i = 0; i < REPLICAS; i++) await sync(i);
  for (let i = 0; i < REPLICAS; i++) {
    expect(await replicas[i]!.db.table('_changes').count()).toBe(0);
    expect(await replicaRows(replicas[i]!, server)).toEqual(partitionRows(await serverRows(server), claimsOf(i)));
    expect(await replicas[i]!.validate()).toMatchObject({ ok: true, excluded: 0 });
  }
  // No write lost: every change the server refused is logged.
  expect((await failedChanges(server)) + purgedRefusals).toBe(rejected);
}

async function failedChanges(server: TestServer): Promise<number> {
  const token = await tokenFor('auditor', { role: 'reviewer' });
  const response = await server.request('/v1/conflicts?limit=1000', { headers: { authorization: `Bearer ${token}` } });
  const { conflicts } = (await response.json()) as FromServerConflicts;
  return conflicts.filter((entry) => entry.type === 'failed-change').length;
}

describe('convergence with partitions', () => {
  it('every replica holds exactly its partition after each sync, through moves, claim changes and refused writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 5, maxLength: 30 }),
        fc.array(fc.nat(CLAIMS.length - 1), { minLength: REPLICAS, maxLength: REPLICAS }),
        run,
      ),
      {
        numRuns: Number(process.env.PARTITION_FUZZ_RUNS ?? 25),
        seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
      },
    );
  }, 120_000);
});
