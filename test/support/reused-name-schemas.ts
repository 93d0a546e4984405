import { defineSchema } from '@concord/shared';

/**
 * A schema history where mapping a row twice would lose it: v2 renames `name` to `title`, and v3
 * reuses `name` for what was `label`.
 */
export const reusedNameV1 = defineSchema({
  version: 1,
  tables: { items: { columns: { name: 'string', label: 'string' } } },
});
export const reusedNameV3 = defineSchema({
  version: 3,
  tables: { items: { columns: { title: 'string', name: 'string' } } },
  migrations: [
    { version: 2, renamed: { items: { name: 'title' } } },
    { version: 3, renamed: { items: { label: 'name' } } },
  ],
});
