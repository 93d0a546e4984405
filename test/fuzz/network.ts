import type { FaultKind, FaultSpec, Route } from './ops';
import type { FuzzServer } from './fuzz-server';

/** What a planted defect sees of a request, and how it lets the server answer. */
export interface DefectRequest {
  route: string;
  body: unknown;
  /** Sends the request on to the server, with `body` in place of the original if given. */
  forward(body?: unknown): Promise<Response>;
}

/** A deliberately broken wire, used to prove that the oracle notices; `undefined` lets the request through. */
export type WireDefect = (request: DefectRequest) => Promise<Response> | undefined;

interface Armed extends FaultSpec {
  seen: number;
}

interface Held {
  replica: number;
  /** How many requests had completed when this one was held: any completion after it means it was overtaken. */
  since: number;
  release(): void;
}

/**
 * The in-memory network between N replicas and the (restartable) server. Every replica has its
 * own wire with an on/offline switch and a queue of armed faults; each fault fires once, on the
 * first matching request after `after` others have passed. Everything is counted by kind.
 */
export interface NetworkOptions {
  defect?: WireDefect;
  /** Log every exchange (for debugging a counterexample). */
  verbose?: boolean;
  /** The model's clock (how many writes have committed), stamped on every delivered push. */
  clock: () => number;
}

/** A push that reached the server: which replica sent which rows, and when. */
export interface Delivery {
  replica: number;
  rows: Set<string>;
  at: number;
}

export function createNetwork(server: FuzzServer, replicas: number, { defect, verbose, clock }: NetworkOptions) {
  const online = Array.from({ length: replicas }, () => true);
  const armed: Armed[][] = Array.from({ length: replicas }, () => []);
  const hooks: { route: Route; run: () => Promise<void> }[][] = Array.from({ length: replicas }, () => []);
  const active = new Map<number, number>();
  const held: Held[] = [];
  const fired: Partial<Record<FaultKind | 'offline' | 'reordered', number>> = {};
  /** Every replicaId the server gave to each replica (a duplicated register makes two). */
  const replicaIds = new Map<string, number>();
  const log: string[] = [];
  const deliveries: Delivery[] = [];
  let completions = 0;

  const count = (kind: FaultKind | 'offline' | 'reordered') => (fired[kind] = (fired[kind] ?? 0) + 1);
  const matches = (route: Route, actual: string) => route === 'any' || route === actual;
  const takeFault = (replica: number, route: string): Armed | undefined => {
    const queue = armed[replica]!;
    const index = queue.findIndex((fault) => matches(fault.route, route) && fault.seen++ >= fault.after);
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  };
  const activeReplicas = () => [...active.values()].filter((n) => n > 0).length;

  /** Releases held requests that were overtaken, or all of them (newest first) when nothing else can move. */
  const releaseHeld = () => {
    for (const entry of [...held]) {
      if (completions > entry.since) {
        held.splice(held.indexOf(entry), 1);
        count('reordered');
        entry.release();
      }
    }
    if (held.length > 0 && held.length >= activeReplicas()) {
      if (held.length > 1) count('reordered');
      for (const entry of held.splice(0).reverse()) entry.release();
    }
  };
  const hold = (replica: number) =>
    new Promise<void>((release) => {
      held.push({ replica, since: completions, release });
      releaseHeld();
    });

  const error500 = () =>
    new Response(JSON.stringify({ code: 'internal', message: 'injected fault: HTTP 500' }), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    });

  const fetchFor =
    (replica: number): typeof fetch =>
    async (input, init) => {
      const url = String(input);
      const route = new URL(url).pathname.split('/')[2] ?? '';
      if (!online[replica]) {
        count('offline');
        throw new TypeError('injected fault: offline');
      }
      const hookIndex = hooks[replica]!.findIndex((hook) => matches(hook.route, route));
      if (hookIndex >= 0) await hooks[replica]!.splice(hookIndex, 1)[0]!.run();
      const forward = async (replaced?: unknown) => {
        if (replaced !== undefined) init = { ...init, body: JSON.stringify(replaced) };
        if (route === 'push' && typeof init?.body === 'string') {
          const { changes } = JSON.parse(init.body) as { changes: { table: string; rowguid: string }[] };
          deliveries.push({ replica, rows: new Set(changes.map((c) => `${c.table}/${c.rowguid}`)), at: clock() });
        }
        const response = await server.app.request(url, init);
        completions++;
        if (verbose) {
          const sent = typeof init?.body === 'string' ? init.body : '';
          log.push(`r${replica} ${route} ${sent}\n    → ${response.status} ${await response.clone().text()}`);
        }
        if (route === 'replicas' && response.ok) {
          const body = (await response.clone().json()) as { replicaId: string };
          replicaIds.set(body.replicaId, replica);
        }
        return response;
      };
      const deliver = async () => {
        const planted = defect?.({
          route,
          body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
          forward,
        });
        return planted ? await planted : await forward();
      };
      const fault = takeFault(replica, route);
      if (fault) {
        count(fault.kind);
        log.push(`r${replica} ${route}: ${fault.kind}`);
      }
      try {
        switch (fault?.kind) {
          case undefined:
            return await deliver();
          case 'drop-request':
          case 'fail-pull':
            throw new TypeError(`injected fault: ${fault.kind}`);
          case 'drop-response':
            await deliver();
            throw new TypeError('injected fault: response lost');
          case 'duplicate':
            await deliver();
            return await deliver();
          case 'error-500':
            return error500();
          case 'error-500-after':
            await deliver();
            return error500();
          case 'hold':
            await hold(replica);
            return await deliver();
          case 'restart':
            await server.restart();
            return await deliver();
          case 'restart-after':
            // The server process stops after committing, before it answers.
            await deliver();
            await server.restart();
            throw new TypeError('injected fault: server restarted before answering');
        }
      } finally {
        releaseHeld();
      }
    };

  return {
    fetchFor,
    fired,
    replicaIds,
    deliveries,
    log,
    setOnline(replica: number, value: boolean) {
      online[replica] = value;
    },
    isOnline: (replica: number) => online[replica]!,
    arm(replica: number, fault: FaultSpec) {
      armed[replica]!.push({ ...fault, seen: 0 });
    },
    /** Runs `run` when the replica's next request on `route` is about to leave (a write during a sync). */
    onRequest(replica: number, route: Route, run: () => Promise<void>) {
      hooks[replica]!.push({ route, run });
    },
    takeHooks(replica: number) {
      return hooks[replica]!.splice(0);
    },
    /** Back to a perfect network: everyone online, nothing armed (for the final sync). */
    heal() {
      online.fill(true);
      for (const queue of armed) queue.length = 0;
    },
    beginSync(replica: number) {
      active.set(replica, (active.get(replica) ?? 0) + 1);
    },
    endSync(replica: number) {
      active.set(replica, (active.get(replica) ?? 1) - 1);
      releaseHeld();
    },
  };
}

export type Network = ReturnType<typeof createNetwork>;
