import { ConcordError, type Schema } from '@concord/shared';
import type { EventKind, FaultKind, FaultSpec, Route } from './ops';
import type { FuzzServer } from './fuzz-server';
import { createHeldRequests } from './held-requests';
import { createLateCopies } from './late-copies';
import { createPoisoner } from './poisoner';
import type { PushBody } from './push-body';
import type { ReplicaTokens } from './replica-tokens';
import { createTokenFaults, TOKEN_FAULTS } from './token-faults';

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

/** How the network is wired to the run. */
export interface NetworkOptions {
  defect?: WireDefect;
  /** Log every exchange (for debugging a counterexample). */
  verbose?: boolean;
  /** The model's clock (how many writes have committed), stamped on every delivered push. */
  clock: () => number;
  /** The schema, to spoil a change with a value of the wrong type. */
  schema: Schema;
  /** Every replica's tokens: its token function hands them out, `wrong-subject` borrows another's. */
  tokens: ReplicaTokens;
}

/** A push the server took (not refused whole): which replica sent which rows, and when it left. */
export interface Delivery {
  replica: number;
  rows: Set<string>;
  at: number;
}

/**
 * The in-memory network between N replicas and the (restartable) server. Every replica has its
 * own wire with an on/offline switch and a queue of armed faults; each fault fires once, on the
 * first matching request after `after` others have passed. Everything is counted by kind.
 */
export function createNetwork(
  server: FuzzServer,
  replicas: number,
  { defect, verbose, clock, schema, tokens }: NetworkOptions,
) {
  const online = Array.from({ length: replicas }, () => true);
  const armed: Armed[][] = Array.from({ length: replicas }, () => []);
  const hooks: { route: Route; run: () => Promise<void> }[][] = Array.from({ length: replicas }, () => []);
  const fired: Partial<Record<FaultKind | EventKind, number>> = {};
  /** Every replicaId the server gave to each replica (a duplicated register makes two). */
  const replicaIds = new Map<string, number>();
  const log: string[] = [];
  const deliveries: Delivery[] = [];
  /** What the wire saw the server answer wrongly: each one is a finding. */
  const findings: string[] = [];

  const count = (kind: FaultKind | EventKind) => (fired[kind] = (fired[kind] ?? 0) + 1);
  const held = createHeldRequests(count);
  const tokenFaults = createTokenFaults(tokens, count, log);
  /** Refusals (403) of a request sent with another replica's token, not yet seen failing a round. */
  const forbidden = Array.from({ length: replicas }, () => 0);
  const { spoils, spoilable, poison, checkPoisoned } = createPoisoner(schema, findings, count);
  const matches = (route: Route, actual: string) => route === 'any' || route === actual;
  /** A poison fault waits for a push with a change it can spoil. */
  const applies = (fault: FaultSpec, route: string, body: PushBody | undefined) =>
    matches(fault.route, route) && (fault.kind !== 'poison' || spoilable(body).length > 0);
  const takeFault = (replica: number, route: string, body: PushBody | undefined): Armed | undefined => {
    const queue = armed[replica]!;
    const index = queue.findIndex((fault) => applies(fault, route, body) && fault.seen++ >= fault.after);
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  };

  const error500 = () =>
    new Response(JSON.stringify({ code: 'internal', message: 'injected fault: HTTP 500' }), {
      status: 500,
      headers: { 'content-type': 'application/json' },
    });

  /**
   * Hands a request to the server (whichever store it now has), recording what a push carried to
   * it: a push the server refused whole (unknown replica, generation gap, closed store) carried nothing.
   */
  const forwardTo = async (replica: number, route: string, url: string, init: RequestInit, copy = false) => {
    const at = clock();
    const response = await server.app.request(url, init);
    held.completed();
    if (route === 'push' && response.ok && typeof init.body === 'string') {
      const { changes } = JSON.parse(init.body) as PushBody;
      deliveries.push({ replica, rows: new Set(changes.map((c) => `${c.table}/${c.rowguid}`)), at });
    }
    if (response.status === 409 || response.status === 404) {
      const { code } = (await response.clone().json()) as { code?: string };
      if (code === 'generation_gap' || code === 'cursor_unknown' || code === 'unknown_replica') {
        if (!copy) count(`refused:${code}`);
      }
    }
    if (verbose) {
      const sent = typeof init.body === 'string' ? init.body : '';
      log.push(
        `r${replica} ${route} ${sent.slice(0, 2000)}\n    → ${response.status} ${(await response.clone().text()).slice(0, 2000)}`,
      );
    }
    if (route === 'replicas' && response.ok) {
      const body = (await response.clone().json()) as { replicaId: string };
      replicaIds.set(body.replicaId, replica);
    }
    return response;
  };
  const late = createLateCopies(server, forwardTo, findings, count);

  const fetchFor =
    (replica: number): typeof fetch =>
    async (input, init) => {
      const url = String(input);
      const route = new URL(url).pathname.split('/')[2] ?? '';
      // A late copy due before this replica's next request reaches the server first.
      await late.deliverDue(replica);
      if (!online[replica]) {
        count('offline');
        throw new TypeError('injected fault: offline');
      }
      const hookIndex = hooks[replica]!.findIndex((hook) => matches(hook.route, route));
      if (hookIndex >= 0) await hooks[replica]!.splice(hookIndex, 1)[0]!.run();
      if (tokenFaults.carriesExpired(replica, init)) {
        // Refused at the server's edge before anything is read, so no other fault is taken on it.
        const response = await forwardTo(replica, route, url, init ?? {});
        if (response.status === 401) tokenFaults.refused(replica);
        else findings.push(`r${replica}: a ${route} with an expired token should be 401, got ${response.status}`);
        held.releaseHeld();
        return response;
      }
      const forward = async (replaced?: unknown) => {
        if (replaced !== undefined) init = { ...init, body: JSON.stringify(replaced) };
        const response = await forwardTo(replica, route, url, init ?? {});
        if (route === 'push' && late.pushAnswered(replica)) await late.deliverDue(replica);
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
      const pushBody =
        route === 'push' && typeof init?.body === 'string' ? (JSON.parse(init.body) as PushBody) : undefined;
      const fault = takeFault(replica, route, pushBody);
      if (fault) {
        count(fault.kind);
        log.push(`r${replica} ${route}: ${fault.kind}${fault.arg === undefined ? '' : `(${fault.arg})`}`);
      }
      try {
        switch (fault?.kind) {
          case undefined:
          case 'token-expired': // armed on the token function, never on the wire
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
            await held.hold(replica);
            return await deliver();
          case 'restart':
            await server.restart();
            return await deliver();
          case 'restart-after':
            // The server process stops after committing, before it answers.
            await deliver();
            await server.restart();
            throw new TypeError('injected fault: server restarted before answering');
          case 'late-copy': {
            // Delivered now, and a copy again later, after other pushes of the replica were answered.
            const response = await deliver();
            late.add({ replica, url, init: { ...init }, wait: fault.arg ?? 0 });
            return response;
          }
          case 'delayed':
            // Stuck on the way: the replica gives up on it (a timeout), and it arrives later.
            late.add({ replica, url, init: { ...init }, wait: fault.arg ?? 0 });
            throw new TypeError('injected fault: request timed out (it is still on its way)');
          case 'poison': {
            const spoiled = poison(replica, pushBody!, fault.arg ?? 0);
            const response = await forward(spoiled.body);
            await checkPoisoned(replica, response, spoiled.index);
            return response;
          }
          case 'restore':
            // The operator restores the store from its backup just before the request arrives.
            if (await server.restore()) count('restored');
            return await deliver();
          case 'wrong-subject': {
            const other = (replica + 1 + ((fault.arg ?? 0) % (replicas - 1))) % replicas;
            const headers = new Headers(init?.headers);
            headers.set('authorization', `Bearer ${tokens.fresh[other]}`);
            init = { ...init, headers };
            // The replica belongs to its own subject: refused, unless the store does not know it (restored).
            const response = await deliver();
            const { code } = (await response.clone().json()) as { code?: string };
            if (response.status === 403 && code === 'forbidden') forbidden[replica]!++;
            else if (response.status !== 404 || code !== 'unknown_replica') {
              findings.push(
                `r${replica}: a ${route} with r${other}'s token should be 403 forbidden, got ${response.status}`,
              );
            }
            return response;
          }
        }
      } finally {
        held.releaseHeld();
      }
    };

  return {
    fetchFor,
    fired,
    count,
    replicaIds,
    deliveries,
    spoils,
    findings,
    log,
    setOnline(replica: number, value: boolean) {
      online[replica] = value;
    },
    isOnline: (replica: number) => online[replica]!,
    arm(replica: number, fault: FaultSpec) {
      if (TOKEN_FAULTS.has(fault.kind)) tokenFaults.arm(replica, fault);
      else armed[replica]!.push({ ...fault, seen: 0 });
    },
    /** The replica's token function. */
    tokenFor: tokenFaults.tokenFor,
    /** Whether an error that failed the replica's round is a refusal the wire provoked (each one once). */
    provoked(replica: number, error: unknown) {
      if (!(error instanceof ConcordError) || error.code !== 'forbidden' || forbidden[replica] === 0) return false;
      forbidden[replica]!--;
      return true;
    },
    /** Runs `run` when the replica's next request on `route` is about to leave (a write during a sync). */
    onRequest(replica: number, route: Route, run: () => Promise<void>) {
      hooks[replica]!.push({ route, run });
    },
    takeHooks(replica: number) {
      return hooks[replica]!.splice(0);
    },
    /** Back to a perfect network: everyone online, nothing armed, every late copy delivered (for the final sync). */
    async heal() {
      online.fill(true);
      for (const queue of armed) queue.length = 0;
      tokenFaults.clear();
      await late.deliverDue('all');
    },
    beginSync: held.beginSync,
    endSync: held.endSync,
  };
}

export type Network = ReturnType<typeof createNetwork>;
