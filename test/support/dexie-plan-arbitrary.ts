import fc from 'fast-check';
import type { Note, Plan, PlanOp } from './dexie-plan';

const id = fc.constantFrom('a', 'b', 'c', 'd', 'e');
const text = fc.option(fc.constantFrom('x', 'y', 'z'), { nil: null });
const row: fc.Arbitrary<Note> = fc.record({ id, title: text, body: text }, { requiredKeys: ['id'] });
const op: fc.Arbitrary<PlanOp> = fc.oneof(
  { arbitrary: row.map((r) => ({ kind: 'put' as const, row: r })), weight: 4 },
  { arbitrary: row.map((r) => ({ kind: 'add' as const, row: r })), weight: 2 },
  {
    arbitrary: fc
      .record({ id, changes: fc.record({ title: fc.constantFrom('u', 'v'), body: text }, { requiredKeys: [] }) })
      .map((u) => ({ kind: 'update' as const, ...u })),
    weight: 3,
  },
  { arbitrary: id.map((i) => ({ kind: 'delete' as const, id: i })), weight: 2 },
  { arbitrary: fc.array(row, { maxLength: 3 }).map((rows) => ({ kind: 'bulkPut' as const, rows })), weight: 1 },
  { arbitrary: fc.array(id, { maxLength: 3 }).map((ids) => ({ kind: 'bulkDelete' as const, ids })), weight: 1 },
  { arbitrary: id.map((i) => ({ kind: 'get' as const, id: i })), weight: 4 },
  { arbitrary: fc.array(id, { maxLength: 3 }).map((ids) => ({ kind: 'bulkGet' as const, ids })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'count' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'toArray' as const }), weight: 2 },
  { arbitrary: id.map((below) => ({ kind: 'range' as const, below })), weight: 1 },
  {
    arbitrary: fc
      .record({ below: id, title: fc.constantFrom('m', 'n') })
      .map((m) => ({ kind: 'modify' as const, ...m })),
    weight: 2,
  },
  { arbitrary: id.map((below) => ({ kind: 'deleteRange' as const, below })), weight: 1 },
  { arbitrary: fc.constantFrom('x', 'y').map((title) => ({ kind: 'filterModify' as const, title })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
);

/** Up to three transactions of up to twelve steps, each awaited or not. */
export const plans: fc.Arbitrary<Plan> = fc.array(
  fc.array(fc.record({ op, awaited: fc.boolean() }), { minLength: 1, maxLength: 12 }),
  { minLength: 1, maxLength: 3 },
);
