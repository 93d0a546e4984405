import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '@concord/server';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Run {
  /** Resolves with the output once the process printed `pattern` (then it keeps running), or exited. */
  output: Promise<{ text: string; code: number | null }>;
}

/** Starts the CLI with a schema; resolves once it listens or exits. */
function cli(args: string[], until = /sync server listening/): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/src/cli.ts', '--schema', 'demo/sync-config.ts', ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  stops.push(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  let text = '';
  const output = new Promise<{ text: string; code: number | null }>((resolve) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (until.test(text)) resolve({ text, code: null });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ text, code }));
  });
  return { output };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-cli-'));
  stops.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the CLI says what is wrong, and exits', () => {
  it('a port already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    const { text, code } = await cli(['--port', String(port), '--data-dir', tempDir()]).output;
    expect(code).toBe(1);
    expect(text).toContain(`concord: port ${port} on 127.0.0.1 is already in use`);
  }, 30_000);

  it('a second server on the same SQLite file', async () => {
    const dataDir = tempDir();
    const first = await cli(['--port', '0', '--data-dir', dataDir]).output;
    expect(first.code).toBeNull();
    const second = await cli(['--port', '0', '--data-dir', dataDir]).output;
    expect(second.code).toBe(1);
    expect(second.text).toMatch(/concord: .*concord\.db is in use by another Concord server/);
  }, 30_000);
});

describe('the CLI serves what the schema module configures', () => {
  it('an "auth" export: every route but health then needs a valid token', async () => {
    const dir = tempDir();
    const config = join(dir, 'sync-config.ts');
    writeFileSync(
      config,
      `export { schema, resolvers } from ${JSON.stringify(join(root, 'demo/sync-config.ts'))};
      export const auth = { secret: 'a-cli-test-secret-of-enough-length' };`,
    );
    const { text, code } = await cli(['--schema', config, '--port', '0', '--data-dir', dir]).output;
    expect(code).toBeNull();
    const base = /listening on (http:\/\/\S+\/v1)/.exec(text)![1]!;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const refused = await fetch(`${base}/replicas`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ protocol: 2, schemaVersion: 1 }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
  }, 30_000);
});

describe('the purge and validate commands', () => {
  it('purges a store now, prints what it removed, and exits', async () => {
    const dir = tempDir();
    const { text, code } = await cli(['purge', '--data-dir', dir], /^$/).output;
    expect(code).toBe(0);
    expect(text).toMatch(/purged 0 tombstones, 0 moves and 0 settled conflict entries/);
  }, 30_000);

  it('validate checks every replica record, sums each table, and exits', async () => {
    const dir = tempDir();
    const store = createSqliteStore({ filename: join(dir, 'concord.db') });
    const now = new Date().toISOString();
    await store.transaction(async (tx) => {
      const first = await tx.allocateGenerations(2);
      await tx.writeRows([
        {
          table: 'products',
          rowguid: 'p1',
          values: { name: 'Tea' },
          deleted: false,
          generation: first,
          writer: 'r',
          priority: 0,
        },
        {
          table: 'products',
          rowguid: 'p2',
          values: {},
          deleted: true,
          generation: first + 1,
          writer: 'r',
          priority: 0,
        },
      ]);
      const record = { priority: 0, lastAppliedLocalGeneration: 0, secretHash: null, subject: null, partition: null };
      await tx.putReplica({ ...record, replicaId: 'r-now', createdAt: now, lastSyncAt: now, lastPulledGeneration: 2 });
      await tx.putReplica({
        ...record,
        replicaId: 'r-old',
        createdAt: '2020-01-01T00:00:00.000Z',
        lastSyncAt: null,
        lastPulledGeneration: 0,
      });
      await tx.putReplica({
        ...record,
        replicaId: 'r-restored',
        createdAt: now,
        lastSyncAt: now,
        lastPulledGeneration: 9,
      });
    });
    await store.close();
    const { text, code } = await cli(['validate', '--data-dir', dir], /^$/).output;
    expect(code).toBe(0);
    expect(text).toMatch(/replica r-now: last seen .*, cursor 2: ok/);
    expect(text).toMatch(/replica r-old: .*expired/);
    expect(text).toMatch(/replica r-restored: .*restored from a backup/);
    expect(text).toMatch(/table products: 1 rows, checksum \d+/);
    expect(text).toMatch(/table stock: 0 rows, checksum 0/);
    expect(text).toMatch(/replicas: 1 ok, 1 expired, 0 purged, 1 ahead/);
  }, 30_000);

  it('an unknown command is refused with the usage', async () => {
    const { text, code } = await cli(['vacuum'], /^$/).output;
    expect(code).toBe(1);
    expect(text).toMatch(/unknown command "vacuum"/);
  }, 30_000);
});
