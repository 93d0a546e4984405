import type { Resolver } from '@concord/shared';

/** How a table settles update–delete and delete–update conflicts: the delete `win`s or `lose`s. */
export type DeleteRule = 'win' | 'lose';

/**
 * The resolver behind a table's `deletes` option, used instead of its row resolver for conflicts
 * between an update and a delete. The delete is the side whose values are null, at the server or
 * uploaded: `win` keeps the row deleted, `lose` keeps (or brings back) the updated row.
 */
export function deletes(rule: DeleteRule): Resolver {
  const name = `deletes:${rule}`;
  return {
    name,
    resolve: ({ client }) => {
      const clientDeleted = client.values === null;
      const clientWins = rule === 'win' ? clientDeleted : !clientDeleted;
      const reason = `${name}: the ${rule === 'win' ? 'delete' : 'update'} wins`;
      return { kind: clientWins ? 'client' : 'server', reason };
    },
  };
}
