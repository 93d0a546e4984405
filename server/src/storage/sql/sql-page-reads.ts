import { MOVE_BYTES, type PageReads } from '../change-page';
import type { ChangeQuery, Removal } from '../store';
import { toRow, type RowRecord } from './records';
import type { SqlDialect, SqlSession } from './sql-driver';
import { parameters, viewArms, viewSeesSql, type Parameters } from './view-sql';

const GENERATION = `SELECT CAST(value AS BIGINT) AS last FROM meta WHERE key = 'generation'`;
const COMMIT_AT = 'SELECT id FROM commits WHERE generation >= $1 ORDER BY generation LIMIT 1';

const ALL = Number.MAX_SAFE_INTEGER;

type Size = { generation: number; bytes: number };

/**
 * Arms of one query as one list in generation order, at most `limit` of them: each arm is
 * ordered (and limited) on its own, so each reads its index range in order and stops early.
 */
function inOrder(arms: readonly string[], limit?: string): string {
  const cap = limit === undefined ? '' : ` LIMIT ${limit}`;
  if (arms.length === 1) return `${arms[0]} ORDER BY generation${cap}`;
  const ordered = arms.map((arm) => `SELECT * FROM (${arm} ORDER BY generation${cap}) arm`);
  return `SELECT * FROM (${ordered.join(' UNION ALL ')}) page ORDER BY generation${cap}`;
}

/**
 * The reads of a change page, on one snapshot, with the query's filters inside the SQL. With a
 * view, rows are read as one arm per partition the view sees, each in generation order from the
 * `(tbl, part, generation)` index and merged, so a branch's download reads its own rows only.
 */
export function sqlPageReads(
  session: SqlSession,
  dialect: SqlDialect,
  { exceptWriter = '', exceptTables = [], view }: Pick<ChangeQuery, 'exceptWriter' | 'exceptTables' | 'view'>,
): PageReads {
  const skipped = (table: string) => exceptTables.includes(table);

  /** `SELECT select FROM rows` for the rows the query keeps in `(after, upTo]`, as `UNION ALL` arms. */
  function rowArms(p: Parameters, after: number, upTo: number, select: string): string[] {
    if (view?.parts.every(([table]) => skipped(table)) && view.whole.every(skipped)) {
      return [`SELECT ${select} FROM rows WHERE 1 = 0`];
    }
    const kept = `generation > ${p.add(after)} AND generation <= ${p.add(upTo)} AND writer <> ${p.add(exceptWriter)}`;
    if (view) return viewArms(dialect, p, view, (table) => !skipped(table), select, kept);
    return [
      `SELECT ${select} FROM rows WHERE ${kept} AND tbl NOT IN (${dialect.texts(p.add(JSON.stringify(exceptTables)))})`,
    ];
  }

  const sees = (p: Parameters, table: string, part: string) => viewSeesSql(dialect, p, view!, table, part);

  // Moves are rare: whether any follow the page's start is asked once, and most pages skip them.
  let movesAfter: { after: number; any: Promise<boolean> } | undefined;
  const anyMoves = (after: number) => {
    if (!movesAfter || after < movesAfter.after) {
      const found = session.query('SELECT 1 AS found FROM moves WHERE generation > $1 LIMIT 1', [after]);
      movesAfter = { after, any: found.then((rows) => rows.length > 0) };
    }
    return movesAfter.any;
  };

  /** The moves in `(after, upTo]` that cross the view: from outside it into it, or out of it. */
  function crossing(p: Parameters, after: number, upTo: number): string {
    return `m.generation > ${p.add(after)} AND m.generation <= ${p.add(upTo)}
      AND m.tbl NOT IN (${dialect.texts(p.add(JSON.stringify(exceptTables)))})
      AND (${sees(p, 'm.tbl', 'm.from_part')}) <> (${sees(p, 'm.tbl', 'm.to_part')})`;
  }

  return {
    async sizes(after, count, upTo = ALL) {
      const p = parameters();
      const arms = rowArms(p, after, upTo, 'generation, bytes');
      const rows = await session.query<Size>(inOrder(arms, p.add(count)), p.values);
      if (!view || !(await anyMoves(after))) return rows;
      const m = parameters();
      // A row that moved in comes whole: it counts its stored size, a removal a key's.
      const moves = await session.query<Size>(
        `SELECT m.generation, CASE WHEN ${sees(m, 'r.tbl', 'r.part')} THEN r.bytes ELSE ${MOVE_BYTES} END AS bytes
          FROM moves m JOIN rows r ON r.tbl = m.tbl AND r.rowguid = m.rowguid
          WHERE ${crossing(m, after, upTo)} ORDER BY m.generation LIMIT ${m.add(count)}`,
        m.values,
      );
      if (moves.length === 0) return rows;
      return [...rows, ...moves].sort((a, b) => a.generation - b.generation).slice(0, count);
    },
    async commitEnd(at) {
      const [found] = await session.query<{ generation: number | null }>(
        'SELECT MIN(generation) AS generation FROM commits WHERE generation >= $1',
        [at],
      );
      return found?.generation ?? undefined;
    },
    async entries(after, upTo) {
      const p = parameters();
      const records = await session.query<RowRecord>(inOrder(rowArms(p, after, upTo, '*')), p.values);
      const rows = records.map(toRow);
      if (!view || !(await anyMoves(after))) return { rows, removals: [] };
      // Where a moved row stands now decides: it comes whole into the view, or is removed from it.
      const m = parameters();
      const moves = await session.query<{ moved_at: number; tbl: string; rowguid: string; visible: number }>(
        `SELECT m.generation AS moved_at, m.tbl, m.rowguid, CASE WHEN ${sees(m, 'r.tbl', 'r.part')} THEN 1 ELSE 0 END AS visible
          FROM moves m JOIN rows r ON r.tbl = m.tbl AND r.rowguid = m.rowguid
          WHERE ${crossing(m, after, upTo)} AND (${sees(m, 'r.tbl', 'r.part')}) <> (${sees(m, 'm.tbl', 'm.from_part')})
          ORDER BY m.generation, m.tbl, m.rowguid`,
        m.values,
      );
      const removals: Removal[] = moves
        .filter((move) => move.visible === 0)
        .map((move) => ({ table: move.tbl, rowguid: move.rowguid, generation: move.moved_at }));
      const arrived = moves.filter((move) => move.visible === 1).map((move) => [move.tbl, move.rowguid]);
      if (arrived.length > 0) {
        const whole = await session.query<RowRecord>(
          `SELECT r.* FROM (${dialect.tuples('$1', ['tbl', 'rowguid'])}) k JOIN rows r ON r.tbl = k.tbl AND r.rowguid = k.rowguid`,
          [JSON.stringify(arrived)],
        );
        rows.push(...whole.map(toRow));
      }
      return { rows, removals };
    },
    generation: async () => (await session.query<{ last: number }>(GENERATION))[0]!.last,
    purged: async () =>
      Number((await session.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'purged'`))[0]?.value ?? 0),
    commitAt: async (at) => (await session.query<{ id: string }>(COMMIT_AT, [at]))[0]?.id,
  };
}
