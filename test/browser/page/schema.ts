import { defineSchema } from '@concord/shared';

/** The schema of the browser test page and its server. */
export const browserSchema = defineSchema({
  version: 1,
  tables: {
    notes: { columns: { title: 'string', body: 'string' } },
    stock: { columns: { sku: 'string', qty: 'integer' }, tracking: 'column' },
    docs: { columns: { text: 'string' }, crdt: ['text'] },
  },
});

/** The next version of the page's app: `notes.title` renamed to `heading`, and a `color` added. */
export const browserSchemaV2 = defineSchema({
  version: 2,
  tables: {
    notes: { columns: { heading: 'string', body: 'string', color: 'string' } },
    stock: { columns: { sku: 'string', qty: 'integer' }, tracking: 'column' },
    docs: { columns: { text: 'string' }, crdt: ['text'] },
  },
  migrations: [{ version: 2, renamed: { notes: { title: 'heading' } } }],
});
