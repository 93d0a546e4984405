import { randomUUID } from 'node:crypto';
import { readChangePage } from '../change-page';
import { createCloseGuard } from '../close-guard';
import { createCommitListeners } from '../commit-listeners';
import type { Store } from '../store';
import { toConflict, toReplica, type ReplicaRow } from './records';
import type { SqlDriver } from './sql-driver';
import { sqlPageReads } from './sql-page-reads';
import { createSqlTransaction, SELECT_REPLICA } from './sql-transaction';
import { createTables } from './tables';

/**
 * A store on any SQL database its driver reaches. The SQL, the record layout, paging, the
 * closed rule and commit announcements live here once; a driver brings only a connection, its
 * transactions and its way of telling every process about a commit.
 */
export function createSqlStore(driver: SqlDriver): Store {
  const { dialect } = driver;
  const listeners = createCommitListeners();
  const guard = createCloseGuard();
  const ready = (async () => {
    await driver.write((session) => createTables(session, dialect));
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
        return { epoch: value('epoch'), generation: Number(value('generation')) };
      }),
    transaction: (work) =>
      run(() =>
        driver.write(async (session) => {
          const { tx, allocated, conflictsWritten } = createSqlTransaction(session, dialect);
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
        // Entries are added while those before them hold fewer than `$6` characters (at least one).
        const records = await driver.query<{ entry: string }>(
          `SELECT c.entry FROM conflicts c JOIN (
            SELECT id, SUM(length(entry)) OVER (ORDER BY id) - length(entry) AS before FROM conflicts
            WHERE id > $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2) AND (CAST($3 AS TEXT) IS NULL OR tbl = $3)
              AND (CAST($4 AS TEXT) IS NULL OR $4 IN (replica_id, winner, loser)) ORDER BY id LIMIT $5
          ) page ON c.id = page.id WHERE page.before < $6 ORDER BY c.id`,
          [
            query.after ?? '',
            query.status ?? null,
            query.table ?? null,
            query.replicaId ?? null,
            query.limit,
            query.maxBytes ?? Number.MAX_SAFE_INTEGER,
          ],
        );
        return records.map(toConflict);
      }),
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
