import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/test-world';
import { PROTOCOL_VERSION, type FromReplicaChange } from '@concord/shared';
import { upsert } from '../support/test-server';
import { expectConverged, serverRows } from '../support/test-replica';

const { start, server: current, replica } = useTestWorld();

function pushAs(replicaId: string, secret: string | undefined, from: number, to: number, changes: FromReplicaChange[]) {
  return current().post('/v1/push', {
    protocol: PROTOCOL_VERSION,
    schemaVersion: 1,
    replicaId,
    ...(secret === undefined ? {} : { secret }),
    fromLocalGeneration: from,
    toLocalGeneration: to,
    changes,
  });
}

describe('a replicaId alone proves nothing', () => {
  it.each<[string, (victim: string, other: string) => string | undefined]>([
    ['no secret', () => undefined],
    ['a wrong secret', () => 'guessed'],
    ["another replica's secret", (_victim, other) => current().secretOf(other)],
  ])('a push or pull for a replica with %s is 401 unauthorized and changes nothing', async (_name, secretFor) => {
    const server = start();
    const victim = (await server.register()).replicaId;
    const other = (await server.register()).replicaId;
    await server.push(victim, [upsert('notes', 'n1', { title: 'mine' }, { gen: 1 })]);
    const before = server.snapshot();
    const secret = secretFor(victim, other);
    const pushed = await pushAs(victim, secret, 2, 1000, [upsert('notes', 'n1', { title: 'forged' }, { gen: 2 })]);
    expect(pushed.status).toBe(401);
    expect(await pushed.json()).toMatchObject({ code: 'unauthorized' });
    const pulled = await server.post('/v1/pull', {
      protocol: PROTOCOL_VERSION,
      schemaVersion: 1,
      replicaId: victim,
      ...(secret === undefined ? {} : { secret }),
      after: 0,
    });
    expect(pulled.status).toBe(401);
    expect(server.snapshot()).toEqual(before);
  });

  it('the attack from the conflict log: a forged empty push of generation 1000 no longer eats the victim’s next changes', async () => {
    const server = start();
    const victim = await replica();
    const other = await replica();
    await victim.db.table('notes').put({ id: 'shared', title: 'victim' });
    await victim.sync();
    await other.sync();
    await other.db.table('notes').put({ id: 'shared', title: 'other' });
    await victim.db.table('notes').put({ id: 'shared', title: 'victim again' });
    await victim.sync();
    await other.sync(); // a conflict: the log now names the victim's replicaId
    const { conflicts } = await server.conflicts();
    const victimId = victim.status.replicaId!;
    expect(conflicts.some((entry) => [entry.replicaId, entry.winner, entry.loser].includes(victimId))).toBe(true);

    const forged = await pushAs(victimId, undefined, 1, 1000, []);
    expect(forged.status).toBe(401);
    await victim.db.table('notes').put({ id: 'later', title: 'must arrive' });
    const report = await victim.sync();
    expect(report.uploaded).toBe(1);
    expect(await victim.db.table('notes').get('later')).toEqual({ id: 'later', title: 'must arrive' });
    expect((await serverRows(server)).notes!.later).toEqual({ title: 'must arrive' });
  });

  it('even with the right secret, a push without changes never moves the watermark', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    await server.push(a, [upsert('notes', 'n1', { title: 'one' }, { gen: 1 })]);
    const empty = await pushAs(a, server.secretOf(a), 2, 1000, []);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toMatchObject({ acknowledged: 1, results: [] });
    const next = await server.push(a, [upsert('notes', 'n2', { title: 'two' }, { gen: 2 })]);
    expect(next.results.map((r) => r.outcome)).toEqual(['applied']);
  });

  it('a replica made before credentials existed registers anew and keeps every local row and pending change', async () => {
    const server = start();
    const a = await replica();
    await a.db.table('notes').put({ id: 'n1', title: 'synced' });
    await a.sync();
    const oldId = a.status.replicaId;
    await a.db.table('_state').delete('secret'); // as an older version left it
    await a.db.table('notes').put({ id: 'n2', title: 'pending' });
    await a.sync();
    expect(a.status.replicaId).not.toBe(oldId);
    expect(a.status.error).toBeNull();
    await expectConverged(server, a);
    expect((await serverRows(server)).notes).toEqual({ n1: { title: 'synced' }, n2: { title: 'pending' } });
    expect((await server.conflicts()).conflicts).toEqual([]);
  });
});

describe('the watermark moves only over changes applied', () => {
  it('a later range that arrives first is refused with generation_gap, and each change applies exactly once', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const secret = server.secretOf(a);
    const first = [
      upsert('notes', 'n1', { title: 'one' }, { gen: 1 }),
      upsert('notes', 'n2', { title: 'two' }, { gen: 2 }),
    ];
    const second = [upsert('notes', 'n3', { title: 'three' }, { gen: 3 })];
    const before = server.snapshot();
    const early = await pushAs(a, secret, 3, 3, second);
    expect(early.status).toBe(409);
    expect(await early.json()).toMatchObject({ code: 'generation_gap', details: { acknowledged: 0 } });
    expect(server.snapshot()).toEqual(before);
    expect(
      (await (await pushAs(a, secret, 1, 2, first)).json()).results.map((r: { outcome: string }) => r.outcome),
    ).toEqual(['applied', 'applied']);
    const resent = await (await pushAs(a, secret, 3, 3, second)).json();
    expect(resent.results.map((r: { outcome: string }) => r.outcome)).toEqual(['applied']);
    expect(Object.keys((await serverRows(server)).notes!).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('pushes of one replica sent concurrently, in any order, all apply once after the refused ones are sent again', async () => {
    const server = start();
    const a = (await server.register()).replicaId;
    const secret = server.secretOf(a);
    const ranges = Array.from({ length: 6 }, (_, i) => ({
      from: i * 2 + 1,
      to: i * 2 + 2,
      changes: [
        upsert('notes', `r${i}a`, { rank: i }, { gen: i * 2 + 1 }),
        upsert('notes', `r${i}b`, { rank: i }, { gen: i * 2 + 2 }),
      ],
    }));
    let pending = [...ranges].reverse();
    const outcomes: string[] = [];
    for (let rounds = 0; pending.length > 0 && rounds < 10; rounds++) {
      const answers = await Promise.all(pending.map((r) => pushAs(a, secret, r.from, r.to, r.changes)));
      const refused: typeof pending = [];
      for (const [i, answer] of answers.entries()) {
        if (answer.status === 409) refused.push(pending[i]!);
        else
          outcomes.push(...((await answer.json()) as { results: { outcome: string }[] }).results.map((r) => r.outcome));
      }
      pending = refused;
    }
    expect(pending).toEqual([]);
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(12);
    expect(Object.keys((await serverRows(server)).notes!)).toHaveLength(12);
  });
});
