import type { JsonValue } from '@concord/shared';

/** One change of a push as it travels on the wire (fields at their protocol default left out). */
export interface PushChange {
  table: string;
  rowguid: string;
  op?: string;
  localGeneration?: number;
  values?: Record<string, JsonValue>;
}

/** The body of a push as it travels on the wire, as the network reads it. */
export interface PushBody {
  replicaId: string;
  fromLocalGeneration: number;
  toLocalGeneration: number;
  /** The replica's download cursor when it sent the push, and its commit. */
  after?: number;
  commit?: string;
  changes: PushChange[];
}
