import { defineSchema } from '@concord/shared';

/** The branch-office inventory the demo replicates. */
export const schema = defineSchema({
  version: 1,
  tables: {
    branches: { columns: { name: 'string', city: 'string' } },
    products: {
      columns: { name: 'string', sku: 'string', price: 'number', notes: 'string', updatedAt: 'date' },
      indexes: ['sku'],
      tracking: 'column',
      crdt: ['notes'],
    },
    stock: {
      columns: { branchId: 'string', productId: 'string', qty: 'integer' },
      indexes: ['branchId', 'productId'],
      tracking: 'column',
    },
  },
});
