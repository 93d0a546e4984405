import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface DemoServer {
  /** `http://127.0.0.1:<port>`: the demo app at `/`, the sync API at `/v1`. */
  origin: string;
  /** Stops the server process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The server `npm start` runs (the CLI with the demo's sync config and its built app), as a
 * child process on a free port with a temporary data directory.
 */
export async function startDemoServer(demoDist: string): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-demo-data-'));
  let port = 0;
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ['--import', 'tsx', 'server/src/cli.ts', '--schema', 'demo/sync-config.ts'];
      args.push('--static', demoDist, '--port', String(port), '--data-dir', dataDir);
      const started = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const listening = /app at http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
        if (listening) {
          port = Number(listening[1]);
          started.stdout!.off('data', onData);
          resolve();
        }
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      started.once('exit', (code) => reject(new Error(`the demo server exited with ${code}:\n${output}`)));
    });
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    stop,
    start,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
