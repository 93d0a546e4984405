import { additive, laterWins, manual, mergeText } from '@concord/server';
import type { ResolverConfig } from '@concord/server';
import { schema } from './schema';

export { schema };

/**
 * How the demo's server settles conflicts, to show the catalogue: stock counts merge their
 * changes, a price waits for a person, notes keep both texts, and the rest of a product goes to
 * the later edit.
 */
export const resolvers: ResolverConfig = {
  tables: {
    stock: { columns: { qty: additive() } },
    products: {
      row: laterWins('updatedAt'),
      columns: { price: manual(), notes: mergeText({ delimiter: '\n' }) },
    },
  },
};
