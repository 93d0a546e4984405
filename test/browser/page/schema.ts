import { defineSchema } from '@concord/shared';

/** The schema of the browser test page and its server. */
export const browserSchema = defineSchema({
  version: 1,
  tables: {
    notes: { columns: { title: 'string', body: 'string' } },
    stock: { columns: { sku: 'string', qty: 'integer' }, tracking: 'column' },
  },
});
