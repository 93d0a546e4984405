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
 * `SELECT select FROM rows WHERE where` over the rows `view` sees of the tables `kept` keeps, as
 * `UNION ALL` arms: one per partition (a range of the partition index) and one for the tables
 * seen whole — or, for a view of very many partitions (a long claim list), one query joined
 * against its list. A view that sees nothing reads nothing, with no parameter (PostgreSQL
 * cannot type a parameter no statement uses).
 */
export function viewArms(
  dialect: SqlDialect,
  p: Parameters,
  view: PartitionView,
  kept: (table: string) => boolean,
  select: string,
  where: string,
): string[] {
  const parts = view.parts.filter(([table]) => kept(table));
  const whole = view.whole.filter(kept);
  if (parts.length === 0 && whole.length === 0) return [`SELECT ${select} FROM rows WHERE 1 = 0`];
  if (parts.length > MAX_ARMS) {
    return [
      `SELECT ${select} FROM rows WHERE ${where} AND ${viewSeesSql(dialect, p, { parts, whole }, 'rows.tbl', 'rows.part')}`,
    ];
  }
  const arms = parts.map(
    ([table, part]) => `SELECT ${select} FROM rows WHERE tbl = ${p.add(table)} AND part = ${p.add(part)} AND ${where}`,
  );
  if (whole.length > 0) {
    arms.push(`SELECT ${select} FROM rows WHERE ${where} AND tbl IN (${dialect.texts(p.add(JSON.stringify(whole)))})`);
  }
  return arms;
}

/**
 * Per table of the query: `count`, and the sums of the high and low halves of the row hashes
 * (`high`, `low`), each modulo what keeps the checksum exact.
 */
export function checksumSql(dialect: SqlDialect, p: Parameters, { tables, view }: ChecksumQuery): string {
  const live = 'deleted = 0';
  const arms = view
    ? viewArms(dialect, p, view, (table) => tables.includes(table), 'tbl, hash', live)
    : [`SELECT tbl, hash FROM rows WHERE ${live} AND tbl IN (${dialect.texts(p.add(JSON.stringify(tables)))})`];
  return `SELECT tbl, COUNT(*) AS count,
      CAST(SUM(hash / ${CHECKSUM_HALF}) % ${CHECKSUM_HALF} AS BIGINT) AS high,
      CAST(SUM(hash % ${CHECKSUM_HALF}) % ${CHECKSUM_MODULUS} AS BIGINT) AS low
    FROM (${arms.join(' UNION ALL ')}) r GROUP BY tbl`;
}
