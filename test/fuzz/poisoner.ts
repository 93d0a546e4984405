import type { ColumnType, JsonValue, Schema } from '@concord/shared';
import type { EventKind } from './ops';
import type { PushBody } from './push-body';

/**
 * A change the wire spoiled (`poison`), as a buggy older client would send it: `original` are the
 * values the replica sent, `poisoned` what reached the server, `column` the one spoiled (a value
 * of the wrong type, or a column the schema lacks).
 */
export interface Spoil {
  replica: number;
  table: string;
  rowguid: string;
  column: string;
  original: Record<string, JsonValue>;
  poisoned: Record<string, JsonValue>;
}

/**
 * The `poison` fault: spoils one change of a push and checks that the server refused that change
 * alone. Every spoil is recorded in `spoils`, every wrong answer in `findings`.
 */
export function createPoisoner(schema: Schema, findings: string[], count: (kind: EventKind) => void) {
  const spoils: Spoil[] = [];
  let poisons = 0;

  /** The changes of a push that carry values to spoil. */
  const spoilable = (body: PushBody | undefined) =>
    (body?.changes ?? []).filter((c) => c.op !== 'delete' && c.values && Object.keys(c.values).length > 0);

  /**
   * Spoils one change of the push, as a buggy older client would send it: a value of the wrong
   * type for its column (unique, so the log names it), or a column the schema lacks.
   */
  const poison = (replica: number, body: PushBody, arg: number): { body: PushBody; index: number } => {
    const candidates = spoilable(body);
    const target = candidates[arg % candidates.length]!;
    const original = target.values!;
    const types = schema.tables[target.table]?.columns ?? {};
    const typed = Object.keys(original).filter((column) => types[column] && types[column] !== 'json');
    const n = ++poisons;
    let column: string;
    let value: JsonValue;
    if (arg % 2 === 0 && typed.length > 0) {
      column = typed[Math.floor(arg / 2) % typed.length]!;
      value = wrongValue(types[column]!, n);
    } else {
      column = `poisoned${n}`;
      value = n;
    }
    const poisoned = { ...original, [column]: value };
    spoils.push({ replica, table: target.table, rowguid: target.rowguid, column, original, poisoned });
    const changes = body.changes.map((c) => (c === target ? { ...c, values: poisoned } : c));
    return { body: { ...body, changes }, index: body.changes.indexOf(target) };
  };
  /** The server must refuse the spoiled change alone: `rejected` (or `duplicate`, a replay), the push answered. */
  const checkPoisoned = async (replica: number, response: Response, index: number) => {
    if (response.status === 409 || response.status === 404 || response.status === 503) return;
    const spoil = spoils.at(-1)!;
    if (!response.ok) {
      findings.push(
        `r${replica}: a push with a spoiled change was refused whole: ${response.status} ${await response.clone().text()}`,
      );
      return;
    }
    const answer = (await response.clone().json()) as { results: { outcome: string }[] };
    const outcome = answer.results[index]?.outcome;
    if (outcome === 'rejected') count('poison:rejected');
    else if (outcome !== 'duplicate')
      findings.push(
        `r${replica}: the spoiled change ${spoil.table}/${spoil.rowguid} {${spoil.column}} was answered ${outcome}`,
      );
  };

  return { spoils, spoilable, poison, checkPoisoned };
}

/** A value its column cannot hold, unique per spoiled change (a string where a number goes, and so on). */
function wrongValue(type: ColumnType, n: number): JsonValue {
  return type === 'string' ? -n - 0.25 : `poison-${n}`;
}
