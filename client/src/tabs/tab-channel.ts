import type { ReplicaStatus } from '../status';
import type { SyncReport } from '../sync/sync-round';

/** The part of the leader's status every tab shows. */
export type SharedStatus = Pick<ReplicaStatus, 'state' | 'lastSyncAt' | 'error' | 'openConflicts' | 'progress'>;

/** What the tabs sharing one replica tell each other. */
export type TabMessage =
  /** The leader's sync status, sent on every change and when a tab says hello. */
  | { type: 'status'; status: SharedStatus }
  /** A tab opened and wants the leader's status. */
  | { type: 'hello' }
  /** This tab leads now (the previous leader closed or crashed). */
  | { type: 'leader' }
  /** A tab wrote to the replica: the leader should sync soon. */
  | { type: 'wrote' }
  /** A tab asks the leader for a sync round now; `id` matches the answer. */
  | { type: 'sync'; id: string }
  | { type: 'synced'; id: string; report?: SyncReport; error?: { code: string; message: string } }
  /** Updates merged into CRDT fields in a tab (its edits, or what its rounds brought): open documents take them. */
  | { type: 'crdt'; updates: FieldUpdate[] };

/** An update of one CRDT field, as the tabs pass it on. */
export interface FieldUpdate {
  table: string;
  rowguid: string;
  column: string;
  update: Uint8Array;
}

/** The part of `BroadcastChannel` the tabs use. */
export interface Channel {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

/** A BroadcastChannel (or none, where it is missing) carrying `TabMessage`s between tabs. */
export function createTabChannel(
  open: ((name: string) => Channel) | undefined,
  name: string,
  onMessage: (message: TabMessage) => void,
): TabChannel {
  const channel = open?.(name);
  let closed = false;
  channel?.addEventListener('message', (event) => onMessage(event.data as TabMessage));
  return {
    // A closed channel throws on post; late messages (a round that ends after close) are dropped.
    post: (message) => {
      if (!closed) channel?.postMessage(message);
    },
    close: () => {
      closed = true;
      channel?.close();
    },
  };
}
