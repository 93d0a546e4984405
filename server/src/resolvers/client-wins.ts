import type { Resolver } from '@concord/shared';

/** Takes the uploaded version, whatever the priorities ("subscriber always wins"): the last to reach the server wins. */
export function clientWins(): Resolver {
  return { name: 'clientWins', resolve: () => ({ kind: 'client' }) };
}
