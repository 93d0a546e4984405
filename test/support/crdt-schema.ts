import { defineSchema } from '@concord/shared';

/** A row-tracked and a column-tracked table, each with a CRDT text column. */
export const crdtSchema = defineSchema({
  version: 1,
  tables: {
    products: { columns: { name: 'string', notes: 'string' }, crdt: ['notes'] },
    stock: { columns: { qty: 'integer', log: 'string' }, crdt: ['log'], tracking: 'column' },
  },
});
