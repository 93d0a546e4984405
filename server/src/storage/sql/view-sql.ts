import { CHECKSUM_HALF, CHECKSUM_MODULUS } from '@concord/shared';
import type { ChecksumQuery, PartitionView } from '../store';
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

/** Most partitions read as arms of their own (SQLite allows 500 arms in one query). */
export const MAX_ARMS = 64;

/**
 * Per table of the query: `count`, and the sums of the high and low halves of the row hashes
 * (`high`, `low`), each modulo what keeps the checksum exact. With a view, one arm per partition
 * reads its range of the partition index.
 */
export function checksumSql(dialect: SqlDialect, p: Parameters, { tables, view }: ChecksumQuery): string {
  const live = 'deleted = 0';
  const listed = (list: readonly string[]) => `tbl IN (${dialect.texts(p.add(JSON.stringify(list)))})`;
  let arms: string[];
  if (!view) arms = [`SELECT tbl, hash FROM rows WHERE ${live} AND ${listed(tables)}`];
  else {
    const parts = view.parts.filter(([table]) => tables.includes(table));
    const whole = view.whole.filter((table) => tables.includes(table));
    if (parts.length > MAX_ARMS) {
      const seen = viewSeesSql(dialect, p, { parts, whole }, 'rows.tbl', 'rows.part');
      arms = [`SELECT tbl, hash FROM rows WHERE ${live} AND ${seen}`];
    } else {
      arms = parts.map(
        ([table, part]) =>
          `SELECT tbl, hash FROM rows WHERE tbl = ${p.add(table)} AND part = ${p.add(part)} AND ${live}`,
      );
      if (whole.length > 0) arms.push(`SELECT tbl, hash FROM rows WHERE ${live} AND ${listed(whole)}`);
    }
  }
  if (arms.length === 0) return 'SELECT tbl, 0 AS count, 0 AS high, 0 AS low FROM rows WHERE 1 = 0';
  return `SELECT tbl, COUNT(*) AS count,
      CAST(SUM(hash / ${CHECKSUM_HALF}) % ${CHECKSUM_HALF} AS BIGINT) AS high,
      CAST(SUM(hash % ${CHECKSUM_HALF}) % ${CHECKSUM_MODULUS} AS BIGINT) AS low
    FROM (${arms.join(' UNION ALL ')}) r GROUP BY tbl`;
}
