import { additive, laterWins, manual } from '@concord/server';
import type { AuthOptions, Identity, PartitionConfig, PermissionConfig, ResolverConfig } from '@concord/server';
import { DEV_TOKEN_SECRET, devTokenRoutes } from './dev-tokens';
import { schema } from './schema';

export { schema };

/**
 * How the demo's server settles conflicts, to show the catalogue: stock counts merge their
 * changes, a price waits for a person, and the rest of a product goes to the later edit. Notes
 * are collaborative text (a crdt column): merged, never resolved.
 */
export const resolvers: ResolverConfig = {
  tables: {
    stock: { columns: { qty: additive() } },
    products: {
      row: laterWins('updatedAt'),
      columns: { price: manual() },
    },
  },
};

/** Tokens from the demo's development sign-in (`dev-tokens.ts`): DEVELOPMENT ONLY. */
export const auth: AuthOptions = { secret: DEV_TOKEN_SECRET };

/** Each branch device holds its own branch's stock; products and branches go to everyone. */
export const partitions: PartitionConfig = { stock: { column: 'branchId', claim: 'branch' } };

const hq = ({ identity }: { identity: Identity | undefined }) => identity?.claims.role === 'hq';

/** Only HQ keeps the catalogue and changes prices; branches change counts and notes. */
export const permissions: PermissionConfig = {
  branches: { insert: hq, update: hq, delete: hq },
  products: {
    insert: hq,
    delete: hq,
    update: ({ identity, row, stored }) => hq({ identity }) || row.price === stored?.price,
  },
  stock: { insert: hq, delete: hq },
};

/** HQ reviews every conflict; a branch sees those of its partition and its own uploads. */
export const reviewer = (identity: Identity) => identity.claims.role === 'hq';

/** The development sign-in, served next to the sync API. */
export const routes = devTokenRoutes;
