import type { Resolver } from '@concord/shared';

/**
 * Leaves the decision to a person: the server version stands for now and the conflict is logged
 * `open`, to be settled through `POST /v1/conflicts/:id/resolve`.
 */
export function manual(): Resolver {
  return {
    name: 'manual',
    resolve: () => ({ kind: 'server', open: true, reason: 'manual: the server version stands until a person decides' }),
  };
}
