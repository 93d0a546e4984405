/**
 * The B1 editing trace of the CRDT benchmarks: 6,000 single-character insertions at random
 * positions (seeded), typed into one replica's CRDT column (Node, fake-indexeddb, a SQLite server
 * in process) and synced to a second replica. Printed: the bytes uploaded next to the size of
 * `Y.encodeStateAsUpdate` of the final document (target ≤ 1.5×), and the time until the second
 * replica shows the final text — typed and then synced once, and with a sync round after every
 * keystroke (`CRDT_KEYSTROKES` sets the trace's length). Then the initial download of 1,000 rows
 * with a 2 KB collaborative note each, next to the same rows with plain-text notes (target ≤ 1.5×).
 */
import * as Y from 'yjs';
import { defineSchema } from '@concord/shared';
import { openNodeReplica } from '../test/support/node-replica';
import { createTestServer } from '../test/support/test-server';
import { now, type BenchResult } from './bench';

const KEYSTROKES = Number(process.env.CRDT_KEYSTROKES ?? 6_000);
const EVERY_ROUND_KEYSTROKES = Math.min(KEYSTROKES, 600);
const TARGET = 1.5;

const schema = defineSchema({
  version: 1,
  tables: {
    docs: { columns: { text: 'string' }, crdt: ['text'] },
    plain: { columns: { text: 'string' } },
  },
});
const ROWS = 1_000;
const DOWNLOAD_TARGET = 1.5;

/** A seeded stream of numbers in [0, 1) (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function trace(keystrokes: number, syncEvery: boolean) {
  const server = createTestServer({ schema });
  let uploaded = 0;
  const fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/v1/push') && typeof init?.body === 'string') uploaded += init.body.length;
    return Promise.resolve(server.app.request(input as string, init));
  };
  const writer = await openNodeReplica({ schema, fetch });
  const reader = await openNodeReplica({ schema, fetch });
  try {
    await writer.db.table('docs').add({ id: 'd1' });
    await writer.sync();
    uploaded = 0;
    const doc = await writer.crdt('docs', 'd1', 'text');
    const text = doc.getText('text');
    const next = random(1);
    const start = now();
    for (let i = 0; i < keystrokes; i++) {
      text.insert(Math.floor(next() * (text.length + 1)), String.fromCharCode(97 + (i % 26)));
      if (syncEvery) await writer.sync();
    }
    // Every edit persisted, then the last round; the reader's round brings the text.
    for (let i = 0; i < 1_000 && (await writer.db.table('_changes').count()) === 0; i++)
      await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 0));
    await writer.sync();
    await reader.sync();
    const ms = now() - start;
    const shown = (await reader.db.table('docs').get('d1'))?.text;
    if (shown !== text.toString()) throw new Error('the reader does not show the final text');
    return { ms, uploaded, final: Y.encodeStateAsUpdate(doc).byteLength };
  } finally {
    await writer.close();
    await reader.close();
    await server.close();
  }
}

/** Seeds 1,000 rows of `table` with a 2 KB note each (typed as one edit), then times a fresh replica's first sync. */
async function download(table: 'docs' | 'plain'): Promise<number> {
  const server = createTestServer({ schema });
  const fetch = (input: RequestInfo | URL, init?: RequestInit) =>
    Promise.resolve(server.app.request(input as string, init));
  const writer = await openNodeReplica({ schema, fetch });
  try {
    const note = (i: number) => `note ${i}: ${'some words about this row. '.repeat(80)}`.slice(0, 2_048);
    if (table === 'plain') {
      await writer.db.table('plain').bulkAdd(Array.from({ length: ROWS }, (_, i) => ({ id: `r${i}`, text: note(i) })));
    } else {
      await writer.db.table('docs').bulkAdd(Array.from({ length: ROWS }, (_, i) => ({ id: `r${i}` })));
      for (let i = 0; i < ROWS; i++) (await writer.crdt('docs', `r${i}`, 'text')).getText('text').insert(0, note(i));
      for (let i = 0; i < 1_000 && (await writer.db.table('_changes').count()) < ROWS; i++)
        await new Promise((r) => setTimeout(r, 2));
    }
    await writer.sync();
    const reader = await openNodeReplica({ schema, fetch });
    try {
      const start = now();
      await reader.sync();
      const ms = now() - start;
      if ((await reader.db.table(table).count()) !== ROWS) throw new Error(`the reader holds too few ${table} rows`);
      return ms;
    } finally {
      await reader.close();
    }
  } finally {
    await writer.close();
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const plain = await download('plain');
  const collaborative = await download('docs');
  const once = await trace(KEYSTROKES, false);
  const every = await trace(EVERY_ROUND_KEYSTROKES, true);
  const ratio = once.uploaded / once.final;
  const n = KEYSTROKES.toLocaleString('en-US');
  const m = EVERY_ROUND_KEYSTROKES.toLocaleString('en-US');
  return [
    {
      name: `crdt: B1, ${n} random insertions typed then synced: bytes uploaded`,
      value: once.uploaded,
      unit: 'B',
      baseline: { name: 'Y.encodeStateAsUpdate of the final document', value: once.final },
      ratio,
      target: `≤ ${TARGET}× the final state`,
      met: ratio <= TARGET,
    },
    { name: `crdt: B1, ${n} insertions, until the other replica shows the text`, value: once.ms, unit: 'ms' },
    {
      name: `crdt: B1, ${m} insertions with a sync round after each: bytes uploaded`,
      value: every.uploaded,
      unit: 'B',
      baseline: { name: 'the final state', value: every.final },
      ratio: every.uploaded / every.final,
    },
    { name: `crdt: B1, ${m} insertions with a sync round after each: until shown`, value: every.ms, unit: 'ms' },
    {
      name: `crdt: initial download of ${ROWS.toLocaleString('en-US')} rows with a 2 KB collaborative note each`,
      value: collaborative,
      unit: 'ms',
      baseline: { name: 'the same rows with plain-text notes', value: plain },
      ratio: collaborative / plain,
      target: `≤ ${DOWNLOAD_TARGET}× plain text`,
      met: collaborative / plain <= DOWNLOAD_TARGET,
    },
  ];
}
