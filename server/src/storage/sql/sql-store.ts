import { randomUUID } from 'node:crypto';
import { readChangePage } from '../change-page';
import { createCloseGuard } from '../close-guard';
import { createCommitListeners } from '../commit-listeners';
import type { Store } from '../store';
import { parseSchemaState, toConflict, toReplica, type ReplicaRow } from './records';
import type { SqlDriver } from './sql-driver';
import { sqlPageReads } from './sql-page-reads';
import { createSqlTransaction, SELECT_REPLICA } from './sql-transaction';
import { createTables } from './tables';
import { checksumSql, parameters, viewSeesSql } from './view-sql';
import { CHECKSUM_HALF, CHECKSUM_MODULUS, rowHasher, type RowHash } from '@concord/shared';
import { tableChecksums } from '../table-checksums';

/**
 * A store on any SQL database its driver reaches. The SQL, the record layout, paging, the
 * closed rule and commit announcements live here once; a driver brings only a connection, its
 * transactions and its way of telling every process about a commit.
 */
export function createSqlStore(driver: SqlDriver): Store {
  const { dialect } = driver;
  const listeners = createCommitListeners();
  const guard = createCloseGuard();
  let rowHash: RowHash;
  const ready = (async () => {
    rowHash = await rowHasher();
    await driver.write((session) => createTables(session, dialect, rowHash));
    await driver.listen((message) => {
      const commit = parseCommitMessage(message);
      if (commit) listeners.emit(commit.generation, { conflicts: commit.conflicts });
    });
  })();
  ready.catch(() => undefined); // reported by every call instead
  const run = <T>(job: () => Promise<T>) => guard.run(() => ready.then(job));

  return {
    meta: () =>
      run(async () => {
        const records = await driver.query<{ key: string; value: string }>('SELECT key, value FROM meta');
        const value = (key: string) => records.find((record) => record.key === key)!.value;
        const optional = (key: string) => records.find((record) => record.key === key)?.value;
        return {
          epoch: value('epoch'),
          generation: Number(value('generation')),
          partitions: optional('partitions') ?? '',
          ...parseSchemaState(optional('schema_version'), optional('schema_migration')),
        };
      }),
    transaction: (work) =>
      run(() =>
        driver.write(async (session) => {
          const { tx, allocated, conflictsWritten } = createSqlTransaction(session, dialect, rowHash);
          const result = await work(tx);
          const last = allocated();
          if (last > 0)
            await session.query('INSERT INTO commits (generation, id) VALUES ($1, $2)', [last, randomUUID()]);
          if (last > 0 || conflictsWritten()) {
            const generation = last || (await sqlPageReads(session, dialect, {}).generation());
            await driver.notify(session, commitMessage(generation, conflictsWritten()));
          }
          return result;
        }),
      ),
    changesSince: (query) =>
      run(() => driver.read((session) => readChangePage(sqlPageReads(session, dialect, query), query))),
    commitAt: (at) => run(() => sqlPageReads(driver, dialect, {}).commitAt(at)),
    getReplica: (replicaId) =>
      run(async () => toReplica((await driver.query<ReplicaRow>(SELECT_REPLICA, [replicaId]))[0])),
    listReplicas: ({ after = '', limit }) =>
      run(async () =>
        (
          await driver.query<ReplicaRow>(
            `SELECT * FROM replicas WHERE replica_id${dialect.bytewise} > $1 ORDER BY replica_id${dialect.bytewise} LIMIT $2`,
            [after, limit],
          )
        ).map((row) => toReplica(row)!),
      ),
    notePull: (replicaId, cursor, at) =>
      run(async () => {
        await driver.query('UPDATE replicas SET last_pulled_generation = $2, last_sync_at = $3 WHERE replica_id = $1', [
          replicaId,
          cursor,
          at,
        ]);
      }),
    listConflicts: (query) =>
      run(async () => {
        const p = parameters();
        const filters = [`k.id > ${p.add(query.after ?? '')}`];
        if (query.status !== undefined) filters.push(`k.status = ${p.add(query.status)}`);
        if (query.table !== undefined) filters.push(`k.tbl = ${p.add(query.table)}`);
        if (query.replicaId !== undefined)
          filters.push(`${p.add(query.replicaId)} IN (k.replica_id, k.winner, k.loser)`);
        if (query.view) {
          filters.push(`(EXISTS (SELECT 1 FROM rows r WHERE r.tbl = k.tbl AND r.rowguid = k.rowguid
              AND ${viewSeesSql(dialect, p, query.view, 'r.tbl', 'r.part')})
            OR EXISTS (SELECT 1 FROM replicas u WHERE u.replica_id = k.replica_id AND u.subject = ${p.add(query.subject ?? '')}))`);
        }
        // Entries are added while those before them hold fewer than `maxBytes` characters (at least one).
        const records = await driver.query<{ entry: string }>(
          `SELECT c.entry FROM conflicts c JOIN (
            SELECT k.id, SUM(length(k.entry)) OVER (ORDER BY k.id) - length(k.entry) AS before FROM conflicts k
            WHERE ${filters.join(' AND ')} ORDER BY k.id LIMIT ${p.add(query.limit)}
          ) page ON c.id = page.id WHERE page.before < ${p.add(query.maxBytes ?? Number.MAX_SAFE_INTEGER)} ORDER BY c.id`,
          p.values,
        );
        return records.map(toConflict);
      }),
    purge: ({ before, limit }) =>
      run(() =>
        driver.write(async (session) => {
          // Every replica seen since the cutoff has downloaded up to its cursor: what lies below
          // the lowest one, no live replica will ask for again.
          const [found] = await session.query<{ safe: number | null }>(
            'SELECT MIN(last_pulled_generation) AS safe FROM replicas WHERE COALESCE(last_sync_at, created_at) >= $1',
            [before],
          );
          const safe = found?.safe ?? (await sqlPageReads(session, dialect, {}).generation());
          const removed = async (statement: string, params: unknown[]) =>
            (await session.query(`${statement} RETURNING 1 AS gone`, [...params, limit])).length;
          // A batch ends at the generation of its last tombstone: a range of the tombstone index,
          // which every database deletes without reading other rows.
          const [last] = await session.query<{ generation: number }>(
            `SELECT generation FROM rows WHERE deleted = 1 AND generation <= $1 ORDER BY generation LIMIT 1 OFFSET $2`,
            [safe, limit - 1],
          );
          const tombstones = await session.query<{ generation: number }>(
            'DELETE FROM rows WHERE deleted = 1 AND generation <= $1 RETURNING generation',
            [last?.generation ?? safe],
          );
          if (tombstones.length > 0) {
            await session.query(
              `INSERT INTO meta (key, value) VALUES ('purged', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                WHERE CAST(meta.value AS BIGINT) < CAST(excluded.value AS BIGINT)`,
              [String(tombstones.reduce((highest, row) => Math.max(highest, row.generation), 0))],
            );
          }
          const report = {
            tombstones: tombstones.length,
            moves: await removed(
              `DELETE FROM moves WHERE generation <= COALESCE((SELECT generation FROM moves WHERE generation <= $1
                ORDER BY generation LIMIT 1 OFFSET $2 - 1), $1)`,
              [safe],
            ),
            conflicts: await removed(
              `DELETE FROM conflicts WHERE id IN (SELECT id FROM conflicts WHERE settled_at < $1 ORDER BY settled_at LIMIT $2)`,
              [before],
            ),
          };
          return { ...report, more: Object.values(report).some((count) => count >= limit) };
        }),
      ),
    checksums: (query) =>
      run(() =>
        driver.read(async (session) => {
          const { sums, add, exclude } = tableChecksums(query);
          const p = parameters();
          for (const found of await session.query<{ tbl: string; count: number; high: number; low: number }>(
            checksumSql(dialect, p, query),
            p.values,
          )) {
            sums.set(found.tbl, {
              count: found.count,
              checksum: (found.high * CHECKSUM_HALF + found.low) % CHECKSUM_MODULUS,
            });
          }
          // Left-out rows are taken away again, those the sums counted.
          const records = exclude.length
            ? await session.query<{ tbl: string; rowguid: string; deleted: number; part: string; hash: number }>(
                `SELECT r.tbl, r.rowguid, r.deleted, r.part, r.hash FROM rows r
                  JOIN (${dialect.tuples('$1', ['tbl', 'rowguid'])}) x ON r.tbl = x.tbl AND r.rowguid = x.rowguid`,
                [JSON.stringify(exclude.map(({ table, rowguid }) => [table, rowguid]))],
              )
            : [];
          for (const { tbl, rowguid, deleted, part, hash } of records) {
            add({ table: tbl, rowguid, deleted: deleted === 1, partition: part, hash }, -1);
          }
          return sums;
        }),
      ),
    onCommit: (listener) => listeners.add(listener),
    close: () =>
      guard.close(async () => {
        listeners.clear();
        await ready.catch(() => undefined);
        await driver.close();
      }),
  };
}

/** A commit as announced: `<generation>`, or `<generation> conflicts` when conflict entries changed. */
function commitMessage(generation: number, conflicts: boolean): string {
  return `${generation}${conflicts ? ' conflicts' : ''}`;
}

function parseCommitMessage(message: string): { generation: number; conflicts: boolean } | undefined {
  const [number, flag] = message.split(' ');
  const generation = Number(number);
  return Number.isSafeInteger(generation) && generation >= 0
    ? { generation, conflicts: flag === 'conflicts' }
    : undefined;
}
