import type { ColumnType, JsonValue, Schema } from '@concord/shared';
import type { EventKind, FaultKind, FaultSpec, Route } from './ops';
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
  /** The schema, to spoil a change with a value of the wrong type. */
  schema: Schema;
}

/** A push the server took (not refused whole): which replica sent which rows, and when it left. */
export interface Delivery {
  replica: number;
  rows: Set<string>;
  at: number;
}

/**
 * A change the wire spoiled (`poison`), as a buggy older client would send it: `original` are the
 * values the replica sent, `poisoned` what reached the server, `column` the one spoiled (a value
 * of the wrong type, or a column the schema lacks).
 */
export interface Spoil {
  replica: number;
  table: string;
  rowguid: string;
  column: string;
  original: Record<string, JsonValue>;
  poisoned: Record<string, JsonValue>;
}

interface PushChange {
  table: string;
  rowguid: string;
  op?: string;
  localGeneration?: number;
  values?: Record<string, JsonValue>;
}
interface PushBody {
  replicaId: string;
  fromLocalGeneration: number;
  toLocalGeneration: number;
  /** The replica's download cursor when it sent the push, and its commit. */
  after?: number;
  commit?: string;
  changes: PushChange[];
}

/** A push the network delivers (again) later: `wait` more answered pushes of its replica first. */
interface LateCopy {
  replica: number;
  url: string;
  init: RequestInit;
  wait: number;
}

export function createNetwork(
  server: FuzzServer,
  replicas: number,
  { defect, verbose, clock, schema }: NetworkOptions,
) {
  const online = Array.from({ length: replicas }, () => true);
  const armed: Armed[][] = Array.from({ length: replicas }, () => []);
  const hooks: { route: Route; run: () => Promise<void> }[][] = Array.from({ length: replicas }, () => []);
  const active = new Map<number, number>();
  const held: Held[] = [];
  const fired: Partial<Record<FaultKind | EventKind, number>> = {};
  /** Every replicaId the server gave to each replica (a duplicated register makes two). */
  const replicaIds = new Map<string, number>();
  const log: string[] = [];
  const deliveries: Delivery[] = [];
  const spoils: Spoil[] = [];
  /** What the wire saw the server answer wrongly: each one is a finding. */
  const findings: string[] = [];
  const late: LateCopy[] = [];
  let completions = 0;
  let poisons = 0;

  const count = (kind: FaultKind | EventKind) => (fired[kind] = (fired[kind] ?? 0) + 1);
  const matches = (route: Route, actual: string) => route === 'any' || route === actual;
  /** A poison fault waits for a push with a change it can spoil. */
  const applies = (fault: FaultSpec, route: string, body: PushBody | undefined) =>
    matches(fault.route, route) && (fault.kind !== 'poison' || spoilable(body).length > 0);
  const takeFault = (replica: number, route: string, body: PushBody | undefined): Armed | undefined => {
    const queue = armed[replica]!;
    const index = queue.findIndex((fault) => applies(fault, route, body) && fault.seen++ >= fault.after);
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

  const spoilable = (body: PushBody | undefined) =>
    (body?.changes ?? []).filter((c) => c.op !== 'delete' && c.values && Object.keys(c.values).length > 0);

  /**
   * Spoils one change of the push, as a buggy older client would send it: a value of the wrong
   * type for its column (unique, so the log names it), or a column the schema lacks.
   */
  const poison = (replica: number, body: PushBody, arg: number): { body: PushBody; index: number } => {
    const candidates = spoilable(body);
    const target = candidates[arg % candidates.length]!;
    const original = target.values!;
    const types = schema.tables[target.table]?.columns ?? {};
    const typed = Object.keys(original).filter((column) => types[column] && types[column] !== 'json');
    const n = ++poisons;
    let column: string;
    let value: JsonValue;
    if (arg % 2 === 0 && typed.length > 0) {
      column = typed[Math.floor(arg / 2) % typed.length]!;
      value = wrongValue(types[column]!, n);
    } else {
      column = `poisoned${n}`;
      value = n;
    }
    const poisoned = { ...original, [column]: value };
    spoils.push({ replica, table: target.table, rowguid: target.rowguid, column, original, poisoned });
    const changes = body.changes.map((c) => (c === target ? { ...c, values: poisoned } : c));
    return { body: { ...body, changes }, index: body.changes.indexOf(target) };
  };
  /** The server must refuse the spoiled change alone: `rejected` (or `duplicate`, a replay), the push answered. */
  const checkPoisoned = async (replica: number, response: Response, index: number) => {
    if (response.status === 409 || response.status === 404 || response.status === 503) return;
    const spoil = spoils.at(-1)!;
    if (!response.ok) {
      findings.push(
        `r${replica}: a push with a spoiled change was refused whole: ${response.status} ${await response.clone().text()}`,
      );
      return;
    }
    const answer = (await response.clone().json()) as { results: { outcome: string }[] };
    const outcome = answer.results[index]?.outcome;
    if (outcome === 'rejected') count('poison:rejected');
    else if (outcome !== 'duplicate')
      findings.push(
        `r${replica}: the spoiled change ${spoil.table}/${spoil.rowguid} {${spoil.column}} was answered ${outcome}`,
      );
  };

  /**
   * Delivers a late copy of a push, its answer going nowhere, and checks that answer against the
   * replica's watermark at the server just before: a range applied already is answered
   * `duplicate` change by change; a range starting past the watermark + 1 is refused with `409
   * generation_gap` (naming the watermark) and changes nothing; so does one whose cursor names a
   * commit the store no longer has (`409 cursor_unknown`); otherwise its fresh changes apply
   * (the original never arrived, or a restore lost it). A replica the store does not know (it
   * was restored to before the replica registered) is `404 unknown_replica`.
   */
  const deliverLate = (copy: LateCopy) =>
    server.exclusive(async () => {
      const body = JSON.parse(copy.init.body as string) as PushBody;
      const record = await server.store.getReplica(body.replicaId);
      const cursorKnown = !body.after || (await server.store.commitAt(body.after)) === body.commit;
      const response = await forwardTo(copy.replica, 'push', copy.url, copy.init, true);
      const text = await response.text();
      const answer = JSON.parse(text) as {
        code?: string;
        details?: { acknowledged?: number };
        acknowledged?: number;
        results?: { outcome: string }[];
      };
      const range = `[${body.fromLocalGeneration}..${body.toLocalGeneration}]`;
      const wrong = (expected: string) =>
        findings.push(
          `r${copy.replica}: a late copy of push ${range} (watermark ${record?.lastAppliedLocalGeneration}) should be ${expected}, got ${response.status} ${text.slice(0, 300)}`,
        );
      if (!record) {
        if (response.status === 404 && answer.code === 'unknown_replica') count('late:unknown-replica');
        else wrong('404 unknown_replica');
        return;
      }
      const watermark = record.lastAppliedLocalGeneration;
      const generationOf = (change: PushChange) => change.localGeneration ?? body.toLocalGeneration;
      if (!cursorKnown) {
        // Its cursor names a commit a restore took away: its bases belong to another history.
        const after = await server.store.getReplica(body.replicaId);
        if (response.status !== 409 || answer.code !== 'cursor_unknown') wrong('409 cursor_unknown');
        else if (after?.lastAppliedLocalGeneration !== watermark) wrong('refused without moving the watermark');
        else count('late:cursor');
        return;
      }
      if (body.fromLocalGeneration > watermark + 1) {
        const after = await server.store.getReplica(body.replicaId);
        if (response.status !== 409 || answer.code !== 'generation_gap' || answer.details?.acknowledged !== watermark)
          wrong(`409 generation_gap acknowledging ${watermark}`);
        else if (after?.lastAppliedLocalGeneration !== watermark) wrong('refused without moving the watermark');
        else count('late:gap');
        return;
      }
      if (response.status !== 200 || !answer.results) return void wrong('answered 200');
      const replays = body.changes.map(
        (change, i) => [generationOf(change) <= watermark, answer.results![i]?.outcome] as const,
      );
      if (replays.some(([old, outcome]) => old !== (outcome === 'duplicate'))) {
        return void wrong('duplicate exactly for the changes at or below the watermark');
      }
      const fresh =
        body.toLocalGeneration > watermark && body.changes.some((change) => generationOf(change) > watermark);
      if (answer.acknowledged !== (fresh ? body.toLocalGeneration : watermark)) {
        return void wrong(`acknowledged ${fresh ? body.toLocalGeneration : watermark}`);
      }
      count(fresh ? 'late:applied' : 'late:duplicate');
    });
  /** Delivers the replica's late copies that are due (all of them: every replica's, when `all`). */
  const deliverDue = async (replica: number | 'all') => {
    for (;;) {
      const index = late.findIndex(
        (copy) => (replica === 'all' || copy.replica === replica) && (replica === 'all' || copy.wait <= 0),
      );
      if (index < 0) return;
      await deliverLate(late.splice(index, 1)[0]!);
    }
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
    completions++;
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

  const fetchFor =
    (replica: number): typeof fetch =>
    async (input, init) => {
      const url = String(input);
      const route = new URL(url).pathname.split('/')[2] ?? '';
      // A late copy due before this replica's next request reaches the server first.
      await deliverDue(replica);
      if (!online[replica]) {
        count('offline');
        throw new TypeError('injected fault: offline');
      }
      const hookIndex = hooks[replica]!.findIndex((hook) => matches(hook.route, route));
      if (hookIndex >= 0) await hooks[replica]!.splice(hookIndex, 1)[0]!.run();
      const forward = async (replaced?: unknown) => {
        if (replaced !== undefined) init = { ...init, body: JSON.stringify(replaced) };
        const response = await forwardTo(replica, route, url, init ?? {});
        if (route === 'push') {
          // One more push of this replica answered: late copies waiting for it come due.
          const due = late.filter((copy) => copy.replica === replica && copy.wait > 0);
          for (const copy of due) copy.wait--;
          if (due.some((copy) => copy.wait === 0)) await deliverDue(replica);
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
          case 'late-copy': {
            // Delivered now, and a copy again later, after other pushes of the replica were answered.
            const response = await deliver();
            late.push({ replica, url, init: { ...init }, wait: fault.arg ?? 0 });
            return response;
          }
          case 'delayed':
            // Stuck on the way: the replica gives up on it (a timeout), and it arrives later.
            late.push({ replica, url, init: { ...init }, wait: fault.arg ?? 0 });
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
        }
      } finally {
        releaseHeld();
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
      armed[replica]!.push({ ...fault, seen: 0 });
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
      await deliverDue('all');
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

/** A value its column cannot hold, unique per spoiled change (a string where a number goes, and so on). */
function wrongValue(type: ColumnType, n: number): JsonValue {
  return type === 'string' ? -n - 0.25 : `poison-${n}`;
}
