import pg from 'pg';

/**
 * The statements of the PostgreSQL store. Batches travel as arrays and are spread with
 * `UNNEST`, so a push of any size is a fixed number of statements.
 */
export const SQL = {
  /** A transaction-scoped advisory lock that serializes write transactions (see postgres-store.ts). */
  lockWrites: 'SELECT pg_advisory_xact_lock(7233373950215501568)',
  /** Schema creation from several processes at once must not race on the catalog. */
  lockSchema: 'SELECT pg_advisory_xact_lock(7233373950215501569)',
  initMeta: `INSERT INTO meta (key, value) VALUES ('epoch', $1), ('generation', '0') ON CONFLICT (key) DO NOTHING`,
  meta: 'SELECT key, value FROM meta',
  generation: `SELECT value::bigint AS last FROM meta WHERE key = 'generation'`,
  allocate: `UPDATE meta SET value = (value::bigint + $1)::text WHERE key = 'generation' RETURNING value::bigint AS last`,
  rowsOf: `SELECT r.* FROM rows r JOIN UNNEST($1::text[], $2::text[]) AS k (tbl, rowguid)
    ON r.tbl = k.tbl AND r.rowguid = k.rowguid`,
  upsertRows: `INSERT INTO rows (tbl, rowguid, data, deleted, generation, writer, priority, columns)
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::float8[], $8::text[])
    ON CONFLICT (tbl, rowguid) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
      generation = excluded.generation, writer = excluded.writer, priority = excluded.priority,
      columns = excluded.columns`,
  /** A change page's reads run in one read-only transaction, so they all see one snapshot. */
  beginPage: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
  sizes: `SELECT generation, octet_length(data) AS bytes FROM rows WHERE generation > $1 AND generation <= $2
    AND writer <> $3 AND tbl <> ALL($4::text[]) ORDER BY generation LIMIT $5`,
  rowsUpTo: `SELECT * FROM rows WHERE generation > $1 AND generation <= $2 AND writer <> $3
    AND tbl <> ALL($4::text[]) ORDER BY generation`,
  anyAfter: `SELECT 1 AS found FROM rows WHERE generation > $1 AND writer <> $2 AND tbl <> ALL($3::text[]) LIMIT 1`,
  commitEnd: 'SELECT MIN(generation) AS generation FROM commits WHERE generation >= $1',
  commitAt: 'SELECT id FROM commits WHERE generation >= $1 ORDER BY generation LIMIT 1',
  addCommit: 'INSERT INTO commits (generation, id) VALUES ($1, $2)',
  replica: 'SELECT * FROM replicas WHERE replica_id = $1',
  putReplica: `INSERT INTO replicas (replica_id, priority, created_at, last_sync_at, last_applied_local_generation,
      last_pulled_generation, secret_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (replica_id) DO UPDATE SET priority = excluded.priority, last_sync_at = excluded.last_sync_at,
      last_applied_local_generation = excluded.last_applied_local_generation,
      last_pulled_generation = excluded.last_pulled_generation`,
  notePull: 'UPDATE replicas SET last_pulled_generation = $1, last_sync_at = $2 WHERE replica_id = $3',
  addConflicts: `INSERT INTO conflicts (id, entry, status, tbl, replica_id, winner, loser)
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
  conflict: 'SELECT entry FROM conflicts WHERE id = $1',
  updateConflict: 'UPDATE conflicts SET entry = $1, status = $2, winner = $3, loser = $4 WHERE id = $5',
  /** Entries are added while those before them hold fewer than `$6` characters (at least one). */
  conflicts: `SELECT c.entry FROM conflicts c JOIN (
      SELECT id, SUM(length(entry)) OVER (ORDER BY id) - length(entry) AS before FROM conflicts
      WHERE id > $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR tbl = $3)
        AND ($4::text IS NULL OR $4 IN (replica_id, winner, loser)) ORDER BY id LIMIT $5
    ) page ON c.id = page.id WHERE page.before < $6 ORDER BY c.id`,
  notify: 'SELECT pg_notify($1, $2)',
} as const;

/** `bigint` columns come back as numbers: generations stay far below 2^53. */
export const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};
