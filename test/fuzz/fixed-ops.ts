import type { FaultSpec, FuzzCase, Op } from './ops';

/** A small fixed world for hand-written fuzz cases: three replicas, priority resolution, no size limits. */
export const fixedConfig: FuzzCase['config'] = {
  replicas: 3,
  resolver: 'priority',
  ranked: false,
  maxUploadChanges: 1000,
  maxDownloadChanges: 1000,
  maxBodyBytes: 0,
};

/** `replica` inserts note `row` (title and rank). */
export const insert = (replica: number, row: number): Op => ({
  kind: 'tx',
  replica,
  writes: [{ kind: 'insert', table: 'notes', row, columns: ['title', 'rank'], salt: 1, size: 'small' }],
});

/** `replica` changes note `row`'s title. */
export const update = (replica: number, row: number): Op => ({
  kind: 'tx',
  replica,
  writes: [{ kind: 'update', table: 'notes', row, columns: ['title'], salt: 2, size: 'small' }],
});

/** The replicas sync one after another, once each. */
export const sync = (...replicas: number[]): Op => ({ kind: 'sync', replicas, concurrent: false, twice: false });

/** Arms `fault` for `replica`'s next matching request. */
export const arm = (replica: number, fault: FaultSpec): Op => ({ kind: 'fault', replica, fault });
