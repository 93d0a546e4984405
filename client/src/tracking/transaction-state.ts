import type { DBCoreKeyRange, DBCoreRangeType, DBCoreTable, DBCoreTransaction } from 'dexie';
import type { ServerLimits } from '@concord/shared';
import type { StateKey, StateRecord } from '../storage/replica-db';
import { DEFAULT_SERVER_LIMITS, maxChangeBytes } from '../storage/wire-change';

/** What tracked writes need from `_state`, read once per transaction. */
export interface TransactionState {
  /** The download cursor: the base generation of a row edited with no pending entry. */
  receivedGeneration: number;
  /** The last local generation of an upload in flight, if any. */
  inFlight: unknown;
  /** The replica's newest local generation (this transaction's, once it has one). */
  localGeneration: number;
  /** Changes stamped so far with this transaction's current local generation; 0 before the first. */
  used: number;
  /** The most bytes one change may take: a push holding it alone must fit the server's body limit. */
  maxChangeBytes: number;
}

// DBCoreRangeType.Any; an ambient const enum, which isolated modules cannot reference.
const EVERY: DBCoreKeyRange = { type: 3 as DBCoreRangeType, lower: undefined, upper: undefined };

/**
 * Per-transaction sync state. A read-write transaction over `_state` excludes every other writer
 * of it (tabs included), so what it reads stays true until it ends: `_state` is read once per
 * transaction, not once per write. Calls for one transaction never overlap (tracked writes run
 * serially).
 */
export function createTransactionState(state: DBCoreTable, generationSize: number) {
  const open = new WeakMap<DBCoreTransaction, TransactionState>();
  return {
    async read(trans: DBCoreTransaction): Promise<TransactionState> {
      const cached = open.get(trans);
      if (cached) return cached;
      // `_state` holds a handful of records: reading them all is one request, not one per key.
      const all = await state.query({ trans, values: true, query: { index: state.schema.primaryKey, range: EVERY } });
      const value = (key: StateKey) => (all.result as StateRecord[]).find((record) => record.key === key)?.value;
      const read: TransactionState = {
        receivedGeneration: (value('receivedGeneration') as number | undefined) ?? 0,
        inFlight: value('inFlight'),
        localGeneration: (value('localGeneration') as number | undefined) ?? 0,
        used: 0,
        maxChangeBytes: maxChangeBytes((value('serverLimits') as ServerLimits | undefined) ?? DEFAULT_SERVER_LIMITS),
      };
      open.set(trans, read);
      return read;
    },
    /**
     * The local generation of each of `count` changes: one per transaction, and a new one every
     * `generationSize` changes, so no generation is larger than one upload batch. Returns the
     * `_state` record to write when a new generation was taken (it must be written in `trans`).
     */
    stamp(read: TransactionState, count: number): { stamps: number[]; record?: StateRecord } {
      const stamps: number[] = [];
      let allocated = false;
      for (let i = 0; i < count; i++) {
        if (read.used === 0 || read.used === generationSize) {
          read.localGeneration++;
          read.used = 0;
          allocated = true;
        }
        read.used++;
        stamps.push(read.localGeneration);
      }
      return allocated ? { stamps, record: { key: 'localGeneration', value: read.localGeneration } } : { stamps };
    },
  };
}
