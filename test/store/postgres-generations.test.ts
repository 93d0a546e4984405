import { afterEach, describe, expect, it } from 'vitest';
import { startServerInstances } from '../support/postgres-sync-servers';
import { upsert } from '../support/test-server';

const REPLICAS = 16;
const PUSHES_PER_REPLICA = 6;
const CHANGES_PER_PUSH = 15;
const PAGE = 7;

let close: (() => Promise<unknown>) | undefined;
afterEach(() => close?.());

describe('PostgreSQL store: no download skips a generation', () => {
  it('many replicas pushing at once through two server instances, while a puller pages continuously: the puller sees every committed change exactly once, in generation order', async () => {
    const servers = await startServerInstances(2);
    close = servers.close;
    const [one, two] = servers.instances as [(typeof servers.instances)[0], (typeof servers.instances)[0]];
    const pullerId = await one.register();
    const writers = await Promise.all(
      Array.from({ length: REPLICAS }, (_, i) => (i % 2 ? two : one).register().then((id) => ({ id, i }))),
    );

    const committed = new Map<number, string>();
    let pushing = true;
    const pushes = Promise.all(
      writers.map(async ({ id, i }) => {
        const server = i % 2 ? two : one;
        for (let p = 0; p < PUSHES_PER_REPLICA; p++) {
          const from = p * CHANGES_PER_PUSH + 1;
          const changes = Array.from({ length: CHANGES_PER_PUSH }, (_, c) =>
            // Every change creates its own row, so every committed change stays visible at its generation.
            upsert('notes', `r${i}-p${p}-c${c}`, { title: `from ${i}`, rank: c }, { gen: from + c }),
          );
          const answer = await server.push(id, {
            fromLocalGeneration: from,
            toLocalGeneration: from + CHANGES_PER_PUSH - 1,
            changes,
          });
          for (const result of answer.results) {
            expect(result.outcome).toBe('applied');
            committed.set(result.generation, result.rowguid);
          }
        }
      }),
    ).finally(() => (pushing = false));

    // The puller alternates between the two instances, as a load balancer without sticky sessions would.
    const seen: { generation: number; rowguid: string }[] = [];
    let cursor = 0;
    let round = 0;
    const pullPage = async () => {
      const page = await (round++ % 2 ? two : one).pull(pullerId, cursor, PAGE);
      for (const change of page.changes) seen.push({ generation: change.generation, rowguid: change.rowguid });
      cursor = page.cursor;
      return page.more;
    };
    while (pushing) await pullPage();
    await pushes;
    while (await pullPage());

    const total = REPLICAS * PUSHES_PER_REPLICA * CHANGES_PER_PUSH;
    expect(committed.size).toBe(total);
    const generations = seen.map((change) => change.generation);
    expect(generations).toEqual([...generations].sort((a, b) => a - b));
    // Exactly once each: nothing skipped (a late commit behind the cursor), nothing repeated.
    expect(new Set(generations).size).toBe(generations.length);
    expect(seen.length).toBe(total);
    expect(new Map(seen.map((change) => [change.generation, change.rowguid]))).toEqual(committed);
    expect(cursor).toBe(total);
  });
});
