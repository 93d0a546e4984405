import type { Dexie, Table } from 'dexie';

/**
 * A plan of app operations on a `notes` table (`id`, `title`, `body`), run the same way on a
 * replica and on plain Dexie to compare what each answers and stores. Used in Node and, bundled
 * into the browser test page, in Chromium.
 */
export type Note = { id: string; title?: string | null; body?: string | null };

export type PlanOp =
  | { kind: 'put'; row: Note }
  | { kind: 'add'; row: Note }
  | { kind: 'update'; id: string; changes: Partial<Note> }
  | { kind: 'delete'; id: string }
  | { kind: 'bulkPut'; rows: Note[] }
  | { kind: 'bulkDelete'; ids: string[] }
  | { kind: 'get'; id: string }
  | { kind: 'bulkGet'; ids: string[] }
  | { kind: 'count' }
  | { kind: 'toArray' }
  | { kind: 'range'; below: string }
  | { kind: 'modify'; below: string; title: string }
  | { kind: 'deleteRange'; below: string }
  | { kind: 'filterModify'; title: string }
  | { kind: 'clear' };

/** One step: an operation, and whether the app awaits it before issuing the next one. */
export interface PlanStep {
  op: PlanOp;
  awaited: boolean;
}

/** Transactions of steps. */
export type Plan = PlanStep[][];

function run(table: Table<Note, string>, op: PlanOp): Promise<unknown> {
  switch (op.kind) {
    case 'put':
      return table.put(op.row);
    case 'add':
      return table.add(op.row);
    case 'update':
      return table.update(op.id, op.changes);
    case 'delete':
      return table.delete(op.id);
    case 'bulkPut':
      return table.bulkPut(op.rows);
    case 'bulkDelete':
      return table.bulkDelete(op.ids);
    case 'get':
      return table.get(op.id);
    case 'bulkGet':
      return table.bulkGet(op.ids);
    case 'count':
      return table.count();
    case 'toArray':
      return table.toArray();
    case 'range':
      return table.where(':id').below(op.below).toArray();
    case 'modify':
      return table.where(':id').below(op.below).modify({ title: op.title });
    case 'deleteRange':
      return table.where(':id').below(op.below).delete();
    case 'filterModify':
      return table.filter((row) => row.title === op.title).modify((row) => void (row.body = `${row.body ?? ''}+`));
    case 'clear':
      return table.clear();
  }
}

/** Runs the plan's transactions on `db`: every step's answer (or error name), then the stored rows. */
export async function playPlan(db: Dexie, plan: Plan): Promise<unknown> {
  const table = db.table<Note, string>('notes');
  const answers: unknown[] = [];
  for (const steps of plan) {
    const settled = await db
      .transaction('rw', table, async () => {
        const pending: Promise<unknown>[] = [];
        for (const step of steps) {
          const answer = run(table, step.op).then(
            (value) => ({ value }),
            (error: Error) => ({ error: error.name }),
          );
          pending.push(answer);
          if (step.awaited) await answer;
        }
        return Promise.all(pending);
      })
      .catch((error: Error) => [{ aborted: error.name }]);
    answers.push(settled);
  }
  return { answers, rows: await table.toArray() };
}
