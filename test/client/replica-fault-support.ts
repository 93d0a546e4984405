import type { OutboxEntry, Replica } from '@concord/client';
import type { FromReplicaPull, FromReplicaPushInput, FromServerPull, FromServerPush } from '@concord/shared';
import { useTestWorld } from '../support/test-world';

export interface Exchange<Req = unknown, Res = unknown> {
  path: string;
  /** 1-based count of requests to this path, this one included. */
  n: number;
  request: Req;
  /** Set once the server answered (even when the fault then hides the answer from the replica). */
  status?: number;
  response?: Res;
  /** Whether the replica received the answer. */
  delivered: boolean;
}

/** Decides what the replica gets: `forward()` lets the server handle the request and gives its answer. */
export type Fault = (exchange: Exchange, forward: () => Promise<Response>) => Promise<Response>;

interface Snapshot {
  rows: { tbl: string; rowguid: string; generation: number; deleted: number; writer: string; data: string }[];
  meta: { key: string; value: string }[];
  conflicts: { id: string; entry: string }[];
}

/** A test world whose replicas can be put behind a fault-injecting wire to its server. */
export function useFaultWorld() {
  const world = useTestWorld();

  /** A fetch to the test server through `fault`, recording every exchange. */
  function wire(fault: Fault = (_, forward) => forward()) {
    const exchanges: Exchange[] = [];
    const counts = new Map<string, number>();
    const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const path = new URL(input as string).pathname;
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const exchange: Exchange = {
        path,
        n,
        request: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
        delivered: false,
      };
      exchanges.push(exchange);
      const forward = async () => {
        const response = await world.server().app.request(input as string, init);
        const text = await response.text();
        exchange.status = response.status;
        exchange.response = JSON.parse(text);
        return new Response(text, { status: response.status, headers: response.headers });
      };
      const response = await fault(exchange, forward);
      exchange.delivered = true;
      return response;
    };
    return {
      fetch,
      exchanges,
      pushes: () => exchanges.filter((e) => e.path === '/v1/push') as Exchange<FromReplicaPushInput, FromServerPush>[],
      pulls: () => exchanges.filter((e) => e.path === '/v1/pull') as Exchange<FromReplicaPull, FromServerPull>[],
    };
  }

  const snapshot = () => world.server().snapshot() as Snapshot;
  return {
    ...world,
    start: () => world.start(),
    wire,
    snapshot,
    /** The server's generation counter: how many row versions it has ever written. */
    serverGeneration: () => Number(snapshot().meta.find((record) => record.key === 'generation')!.value),
  };
}

/** A gate a fault can wait at: `reached` resolves when something waits, `release()` lets it through. */
export function gate() {
  let signal!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (signal = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    reached,
    release,
    wait: () => {
      signal();
      return released;
    },
  };
}

export const outboxOf = (replica: Replica) => replica.db.table<OutboxEntry>('_changes').toArray();

export const network = () => Promise.reject(new TypeError('network'));
