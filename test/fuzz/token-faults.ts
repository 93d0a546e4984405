import type { FaultKind, FaultSpec } from './ops';
import type { ReplicaTokens } from './replica-tokens';

/** The faults a replica's token function plays, rather than its wire. */
export const TOKEN_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(['token-expired']);

/**
 * Each replica's token function, with the faults armed on it: `token-expired` answers one ask,
 * after `after` others, with the replica's expired token, as an app whose cached token ran out
 * would. The ask that follows the 401 it earns, the replica's one retry, always gets a valid
 * token: a token function that fails twice in a row is the app's defect, not the replica's.
 */
export function createTokenFaults(tokens: ReplicaTokens, count: (kind: FaultKind) => void, log: string[]) {
  const armed: (FaultSpec & { seen: number })[][] = tokens.fresh.map(() => []);
  const retrying = tokens.fresh.map(() => false);
  const ask = (replica: number): string => {
    const queue = armed[replica]!;
    const index = retrying[replica] ? -1 : queue.findIndex((fault) => fault.seen++ >= fault.after);
    retrying[replica] = false;
    if (index < 0) return tokens.fresh[replica]!;
    const fault = queue.splice(index, 1)[0]!;
    count(fault.kind);
    log.push(`r${replica} token: ${fault.kind}`);
    return tokens.expired[replica]!;
  };
  return {
    arm(replica: number, fault: FaultSpec) {
      armed[replica]!.push({ ...fault, seen: 0 });
    },
    /** The replica's token function, as `openReplica` takes it. */
    tokenFor: (replica: number) => () => ask(replica),
    /** Whether a request carries the replica's expired token. */
    carriesExpired: (replica: number, init: RequestInit | undefined) =>
      new Headers(init?.headers).get('authorization') === `Bearer ${tokens.expired[replica]}`,
    /** The server refused the replica's expired token: its next ask is the retry. */
    refused(replica: number) {
      retrying[replica] = true;
    },
    /** Disarms every token fault (the final heal). */
    clear() {
      for (const queue of armed) queue.length = 0;
    },
  };
}
