import fc from 'fast-check';
import type { FaultKind, FaultSpec, Route } from './ops';

const route = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Route>('push') },
  { weight: 3, arbitrary: fc.constant<Route>('pull') },
  { weight: 2, arbitrary: fc.constant<Route>('any') },
  { weight: 1, arbitrary: fc.constant<Route>('replicas') },
);

/** What a fuzz case may do beyond the always-on ops and faults. */
export interface CaseOptions {
  /** Back up and restore the server's store (ops `backup` and `restore`, fault `restore`). */
  restore: boolean;
}

/** A fault to arm on a replica's wire; `restore` only when the case backs up and restores its store. */
export const faultArbitrary = ({ restore }: CaseOptions): fc.Arbitrary<FaultSpec> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constantFrom<FaultKind>('drop-request', 'drop-response', 'duplicate', 'error-500', 'error-500-after'),
        route,
        after: fc.nat(1),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constantFrom<FaultKind>('restart', 'restart-after'), route, after: fc.nat(1) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('hold'),
        route: fc.constantFrom<Route>('push', 'pull', 'any'),
        after: fc.nat(1),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('fail-pull'),
        route: fc.constant<Route>('pull'),
        after: fc.integer({ min: 1, max: 3 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constantFrom<FaultKind>('late-copy', 'delayed'),
        route: fc.constant<Route>('push'),
        after: fc.nat(1),
        arg: fc.nat(3),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('poison'),
        route: fc.constant<Route>('push'),
        after: fc.nat(1),
        arg: fc.nat(7),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('token-expired'),
        route: fc.constant<Route>('any'),
        after: fc.nat(2),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant<FaultKind>('wrong-subject'),
        route: fc.constantFrom<Route>('push', 'pull'),
        after: fc.nat(1),
        arg: fc.nat(2),
      }),
    },
    ...(restore
      ? [{ weight: 2, arbitrary: fc.record({ kind: fc.constant<FaultKind>('restore'), route, after: fc.nat(1) }) }]
      : []),
  );
