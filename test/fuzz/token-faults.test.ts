import { describe, expect, it } from 'vitest';
import { runCase } from './harness';
import type { FaultSpec, FuzzCase, Op } from './ops';

const config: FuzzCase['config'] = {
  replicas: 3,
  resolver: 'priority',
  ranked: false,
  maxUploadChanges: 1000,
  maxDownloadChanges: 1000,
  maxBodyBytes: 0,
};
const insert = (replica: number, row: number): Op => ({
  kind: 'tx',
  replica,
  writes: [{ kind: 'insert', table: 'notes', row, columns: ['title', 'rank'], salt: 1, size: 'small' }],
});
const sync = (...replicas: number[]): Op => ({ kind: 'sync', replicas, concurrent: false, twice: false });
const arm = (replica: number, fault: FaultSpec): Op => ({ kind: 'fault', replica, fault });

describe('replicas survive the token faults', () => {
  it('a replica whose token function hands out an expired token asks again, and its write arrives', async () => {
    const report = await runCase({
      config,
      ops: [insert(0, 1), sync(0), insert(0, 2), arm(0, { kind: 'token-expired', route: 'any', after: 0 }), sync(0, 1)],
    });
    expect(report.faults['token-expired']).toBe(1);
    expect(report.failedSyncs).toBe(0);
  });

  it.each(['push', 'pull'] as const)(
    'a %s sent with another replica’s token is refused and fails only its round',
    async (route) => {
      const report = await runCase({
        config,
        ops: [
          insert(0, 1),
          sync(0),
          insert(0, 2),
          arm(0, { kind: 'wrong-subject', route, after: 0, arg: 1 }),
          sync(0),
          sync(0, 1),
        ],
      });
      expect(report.faults['wrong-subject']).toBe(1);
      expect(report.failedSyncs).toBe(1);
    },
  );
});
