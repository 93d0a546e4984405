import type { PageReads } from '../change-page';
import type { ChangeQuery } from '../store';
import { toRow, type RowRecord } from './records';
import type { SqlDialect, SqlSession } from './sql-driver';

const GENERATION = `SELECT CAST(value AS BIGINT) AS last FROM meta WHERE key = 'generation'`;
const COMMIT_AT = 'SELECT id FROM commits WHERE generation >= $1 ORDER BY generation LIMIT 1';

const ALL = Number.MAX_SAFE_INTEGER;

/** The reads of a change page, on one snapshot, with the query's filters inside the SQL. */
export function sqlPageReads(
  session: SqlSession,
  dialect: SqlDialect,
  { exceptWriter = '', exceptTables = [] }: Pick<ChangeQuery, 'exceptWriter' | 'exceptTables'>,
): PageReads {
  const tables = JSON.stringify(exceptTables);
  // `$1`, `$2`: the generations after and up to; `$3`, `$4`: the writer and the tables left out.
  const range = `generation > $1 AND generation <= $2 AND writer <> $3 AND tbl NOT IN (${dialect.texts('$4')})`;
  return {
    sizes: (after, count, upTo = ALL) =>
      session.query(
        `SELECT generation, ${dialect.octets('data')} AS bytes FROM rows WHERE ${range} ORDER BY generation LIMIT $5`,
        [after, upTo, exceptWriter, tables, count],
      ),
    async commitEnd(at) {
      const [found] = await session.query<{ generation: number | null }>(
        'SELECT MIN(generation) AS generation FROM commits WHERE generation >= $1',
        [at],
      );
      return found?.generation ?? undefined;
    },
    async rows(after, upTo) {
      const records = await session.query<RowRecord>(`SELECT * FROM rows WHERE ${range} ORDER BY generation`, [
        after,
        upTo,
        exceptWriter,
        tables,
      ]);
      return records.map(toRow);
    },
    async anyAfter(at) {
      const found = await session.query(`SELECT 1 AS found FROM rows WHERE ${range} LIMIT 1`, [
        at,
        ALL,
        exceptWriter,
        tables,
      ]);
      return found.length > 0;
    },
    generation: async () => (await session.query<{ last: number }>(GENERATION))[0]!.last,
    commitAt: async (at) => (await session.query<{ id: string }>(COMMIT_AT, [at]))[0]?.id,
  };
}
