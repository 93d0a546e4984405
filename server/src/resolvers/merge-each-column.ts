import type { ColumnType, JsonValue, Resolver, RowValues } from '@concord/shared';
import { byPriority } from './by-priority';

/** One conflicting column, both sides non-null and of the kind the resolver merges. */
export interface ColumnSides<T> {
  column: string;
  type: ColumnType | undefined;
  /** The uploader's value before its edit; null when unknown (an insert) or null. */
  base: T | null;
  server: T;
  client: T;
}

export interface MergeEachColumnOptions<T extends JsonValue> {
  name: string;
  accepts: readonly ColumnType[];
  /** What the resolver merges, for the reason of a refusal: `a number`, `a string`. */
  expected: string;
  is(value: JsonValue): value is T;
  merge(sides: ColumnSides<T>): JsonValue;
}

/**
 * The shape shared by additive, average and mergeText: every conflicting column (`input.columns`)
 * is merged on its own and the answer is a `merge` of those columns, so the resolver works for
 * a column-tracked column and for a row-tracked table's row alike. A null side takes the other
 * side's value. A value of the wrong kind is refused with the reason (the change is rejected and
 * logged; nothing is written). A delete cannot be merged: update–delete and delete–update
 * conflicts fall to priority (higher wins; equal keeps the server version) unless the table's
 * `deletes` rule decides them first.
 */
export function mergeEachColumn<T extends JsonValue>(options: MergeEachColumnOptions<T>): Resolver {
  const { name, accepts, expected, is, merge } = options;
  return {
    name,
    accepts,
    resolve(input) {
      const server = input.server.values;
      const client = input.client.values;
      if (server === null || client === null) return byPriority(input, `${name}: a delete cannot be merged`);
      const values: RowValues = {};
      for (const column of input.columns) {
        const sides = {
          server: server[column] ?? null,
          client: client[column] ?? null,
          base: input.base[column] ?? null,
        };
        for (const [side, value] of Object.entries(sides)) {
          if (value !== null && !is(value)) {
            const where = `${input.table}.${column}`;
            return {
              kind: 'reject',
              reason: `${name}: the ${side} value of ${where}, ${JSON.stringify(value)}, is not ${expected}`,
            };
          }
        }
        const base = sides.base as T | null;
        const [s, c] = [sides.server as T | null, sides.client as T | null];
        values[column] =
          s === null || c === null
            ? (s ?? c)
            : merge({ column, type: input.columnTypes[column], base, server: s, client: c });
      }
      return { kind: 'merge', values };
    },
  };
}
