import type { ConflictInput, Resolution } from '@concord/shared';

/**
 * The priority rule that every built-in resolver falls back to on a tie: the version from the
 * replica with the higher priority wins; on equal priority the version at the server stays, so
 * the first to reach the server wins. `why` (when given) starts the logged reason.
 */
export function byPriority(input: ConflictInput, why?: string): Resolution {
  const clientWins = input.client.priority > input.server.priority;
  if (why === undefined) return { kind: clientWins ? 'client' : 'server' };
  const rule = clientWins
    ? 'the uploading replica has the higher priority'
    : input.client.priority === input.server.priority
      ? 'equal priority keeps the server version'
      : 'the server version has the higher priority';
  return { kind: clientWins ? 'client' : 'server', reason: `${why}; ${rule}` };
}
