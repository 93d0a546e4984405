import type { Resolver } from '@concord/shared';

/** Keeps the version stored at the server, whatever the priorities: the first to reach the server wins. */
export function serverWins(): Resolver {
  return { name: 'serverWins', resolve: () => ({ kind: 'server' }) };
}
