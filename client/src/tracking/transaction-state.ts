import type { DBCoreKeyRange, DBCoreRangeType, DBCoreTable, DBCoreTransaction } from 'dexie';
import { nextLocalGeneration, type LocalGenerations } from '../storage/next-local-generation';
import { stateValue, type StateRecord } from '../storage/replica-state';
import { maxChangeBytes } from '../storage/wire-change';

/** What tracked writes need from `_state`, read once per transaction. */
export interface TransactionState extends LocalGenerations {
  /** The download cursor: the base generation of a row edited with no pending entry. */
  receivedGeneration: number;
  /** The last local generation of an upload in flight, if any. */
  inFlight: number | null;
  /** The most bytes one change may take: a push holding it alone must fit the server's body limit. */
  maxChangeBytes: number;
  /** When the oldest pending change was written; null while the outbox is empty. */
  pendingSince: string | null;
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
      const records = all.result as StateRecord[];
      const read: TransactionState = {
        receivedGeneration: stateValue(records, 'receivedGeneration'),
        inFlight: stateValue(records, 'inFlight'),
        localGeneration: stateValue(records, 'localGeneration'),
        used: 0,
        maxChangeBytes: maxChangeBytes(stateValue(records, 'serverLimits')),
        pendingSince: stateValue(records, 'pendingSince'),
      };
      open.set(trans, read);
      return read;
    },
    /**
     * The local generation of each of `count` changes (see `nextLocalGeneration`). Returns the
     * `_state` record to write when a new generation was taken (it must be written in `trans`).
     */
    stamp(read: TransactionState, count: number): { stamps: number[]; record?: StateRecord } {
      const before = read.localGeneration;
      const stamps: number[] = [];
      for (let i = 0; i < count; i++) stamps.push(nextLocalGeneration(read, generationSize));
      const allocated = read.localGeneration !== before;
      return allocated ? { stamps, record: { key: 'localGeneration', value: read.localGeneration } } : { stamps };
    },
    /**
     * The `_state` record clearing `pendingSince` when the outbox, its cancellations written,
     * holds nothing; false otherwise.
     */
    async emptied(read: TransactionState, outbox: DBCoreTable, trans: DBCoreTransaction): Promise<StateRecord | false> {
      if (read.pendingSince === null) return false;
      const left = await outbox.count({ trans, query: { index: outbox.schema.primaryKey, range: EVERY } });
      if (left > 0) return false;
      read.pendingSince = null;
      return { key: 'pendingSince', value: null };
    },
    /** The `_state` record marking when the outbox stopped being empty, when this write makes it so. */
    pendingFrom(read: TransactionState, at: Date): StateRecord | undefined {
      if (read.pendingSince !== null) return undefined;
      read.pendingSince = at.toISOString();
      return { key: 'pendingSince', value: read.pendingSince };
    },
  };
}
