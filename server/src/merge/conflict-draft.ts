import { pickColumns, type ConflictInput, type ConflictVersion, type Resolution, type Resolver } from '@concord/shared';
import type { ConflictDraft } from './merge-outcome';

/**
 * The log entry for a conflict a resolver decided. Each side keeps only the conflicting columns
 * (the whole version when none are named); a merge has neither winner nor loser and logs the
 * merged values against the uploaded ones. Only a `server` answer that asks for it stays open.
 */
export function conflictDraft(resolver: Resolver, input: ConflictInput, resolution: Resolution): ConflictDraft {
  const { server, client, columns } = input;
  const side = (version: ConflictVersion) =>
    version.values && (columns.length > 0 ? pickColumns(version.values, columns) : version.values);
  const clientWon = resolution.kind === 'client';
  const merged = resolution.kind === 'merge';
  const [winner, loser] = clientWon ? [client, server] : [server, client];
  return {
    columns: [...columns],
    type: input.type,
    resolver: resolver.name,
    status: resolution.kind === 'server' && resolution.open ? 'open' : 'resolved',
    winner: merged ? null : winner.replicaId,
    loser: merged ? null : loser.replicaId,
    winningValues: merged ? resolution.values : side(winner),
    losingValues: merged ? side(client) : side(loser),
    reason: resolution.reason ?? describe(resolution.kind, resolver.name),
  };
}

function describe(kind: Resolution['kind'], resolver: string): string {
  if (kind === 'merge') return `merged by ${resolver}`;
  return `${resolver}: ${kind === 'client' ? 'the uploaded version' : 'the server version'} wins`;
}
