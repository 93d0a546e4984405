import type { Resolver } from '@concord/shared';
import { byPriority } from './by-priority';

/**
 * The default resolver: the version from the replica with the higher priority wins; on equal
 * priority the version already at the server stays (the first to reach the server wins).
 */
export function priority(): Resolver {
  return { name: 'priority', resolve: (input) => byPriority(input) };
}
