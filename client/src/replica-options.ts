import type { Schema } from '@concord/shared';
import type { TransportOptions } from './sync/transport';
import type { Locks } from './tabs/leadership';
import type { Channel } from './tabs/tab-channel';

export interface ReplicaOptions extends TransportOptions {
  schema: Schema;
  /** The IndexedDB database name; tabs of one origin that use the same name share one replica. Default `concord`. */
  name?: string;
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
  /** Most changes in one upload; also the most changes one local generation holds. Default 1,000. */
  maxUploadChanges?: number;
  /**
   * Most changes asked for per download page; the server may send fewer (its own ceiling, 5,000
   * by default). Default 5,000: an initial sync takes few round trips and few transactions. The
   * first page of a round asks for at most 1,000, so the first rows are queryable early.
   */
  maxDownloadChanges?: number;
  /** Background sync: interval, debounce after local writes, first backoff and its ceiling (ms). */
  syncIntervalMs?: number;
  debounceMs?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where `online`/`offline` events come from; defaults to the global object when it has them. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Web Locks for choosing the tab that syncs; default `navigator.locks`. `null`: this instance always syncs. */
  locks?: Locks | null;
  /** Opens the channel between tabs; default `new BroadcastChannel(name)`. `null`: no other tabs. */
  openChannel?: ((name: string) => Channel) | null;
  /** Listen to the server's event stream and sync on its pokes while started. Default true. */
  realtime?: boolean;
  /** An event stream silent this long (no event, not even a ping) is opened again. Default 45 s. */
  realtimeStaleMs?: number;
  /** Ask the browser for persistent storage (`navigator.storage.persist()`). Default true. */
  persist?: boolean;
  now?: () => Date;
  random?: () => number;
  /**
   * Where errors the replica survives without failing a call are reported: a background recount,
   * a conflict refresh, the sync after `resolveConflict`, a poke checked after close. Default
   * `console.error`.
   */
  log?: (error: unknown) => void;
}
