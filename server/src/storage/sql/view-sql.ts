import type { PartitionView } from '../store';
import type { SqlDialect } from './sql-driver';

/** One statement's parameters: each value added gets the next `$n`. */
export function parameters() {
  const values: unknown[] = [];
  return { values, add: (value: unknown) => `$${values.push(value)}` };
}
export type Parameters = ReturnType<typeof parameters>;

/**
 * SQL saying whether `view` sees a row of table `table` in partition `part`: SQL expressions,
 * qualified by their table's name or alias (an unqualified `tbl` would name the list's own column).
 */
export function viewSeesSql(
  dialect: SqlDialect,
  p: Parameters,
  view: PartitionView,
  table: string,
  part: string,
): string {
  const whole = p.add(JSON.stringify(view.whole));
  const parts = p.add(JSON.stringify(view.parts));
  return `(${table} IN (${dialect.texts(whole)}) OR EXISTS (SELECT 1 FROM (${dialect.tuples(parts, ['tbl', 'part'])}) v
    WHERE v.tbl = ${table} AND v.part = ${part}))`;
}
