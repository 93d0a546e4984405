import { ConcordError, valuesToCurrent } from '@concord/shared';
import type { SchemaState, Store } from '../storage/store';
import type { SchemaVersions } from './schema-versions';

/** Rows rewritten per transaction: a migration never holds pushes back for long. */
const BATCH = 1_000;
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * Brings the stored rows to the server's schema version when they were written for an older one:
 * a column a migration renamed takes its new name (in the values and the per-column versions),
 * one it removed goes. Generations do not change: replicas at the new version download afresh
 * when they upgrade, older ones are sent rows in the names they know, and a pending edit made over
 * a row's version still meets that version, not a conflict. (An older replica keeps its copy of a
 * removed column's value until it upgrades or the row changes: the server no longer has it.)
 *
 * The store records the new version before the first batch, so a server with the older schema
 * sharing the database stops serving, and the progress (`after`) with each batch, in the batch's
 * transaction: an interrupted migration resumes where it stopped, a second server starting at the
 * same time follows the first's progress instead of mapping rows twice, and no row is ever mapped
 * twice (which a rename onto a reused name would not survive). A migration to an older version
 * that another server began is carried on to its end first. A store made before its version was
 * recorded is taken to be at the oldest version served. A store written for a newer version than
 * the server's is refused (`unavailable`).
 */
export async function migrateRows(store: Store, versions: SchemaVersions): Promise<void> {
  const schema = versions.current;
  for (;;) {
    const state = await store.transaction(async (tx): Promise<SchemaState | undefined> => {
      const current = await tx.schemaState();
      if (current.version > schema.version) throw newerStore(current.version, schema.version);
      // A migration under way (this version's, or an older one another server began) is carried on.
      if (current.migration) return current;
      if (current.version === schema.version) return undefined;
      const started = {
        version: schema.version,
        migration: { from: current.version || versions.served[0]!, after: 0 },
      };
      await tx.setSchemaState(started);
      return started;
    });
    if (!state?.migration) return;
    const { from, after } = state.migration;
    // Up to the version it migrates to, which may be older than this server's.
    const path = {
      version: state.version,
      migrations: schema.migrations.filter(({ version }) => version <= state.version),
    };
    const tables = new Set(
      path.migrations
        .filter(({ version }) => version > from)
        .flatMap(({ renamed, removed }) => [...Object.keys(renamed), ...Object.keys(removed)]),
    );
    const page =
      tables.size > 0
        ? await store.changesSince({ after, limit: BATCH, maxBytes: MAX_BYTES })
        : { rows: [], cursor: after, more: false };
    await store.transaction(async (tx) => {
      const current = await tx.schemaState();
      // Another server moved the migration on meanwhile: follow it from where it stands.
      if (current.migration?.after !== after || current.version !== state.version) return;
      const keys = page.rows.filter((row) => tables.has(row.table));
      const rows = keys.length > 0 ? [...(await tx.getRows(keys)).values()] : [];
      for (const row of rows) {
        row.values = valuesToCurrent(path, row.table, row.values, from);
        if (row.columns) row.columns = valuesToCurrent(path, row.table, row.columns, from);
        if (row.crdt) row.crdt = valuesToCurrent(path, row.table, row.crdt, from);
      }
      if (rows.length > 0) await tx.writeRows(rows);
      await tx.setSchemaState({ version: state.version, migration: page.more ? { from, after: page.cursor } : null });
    });
  }
}

export function newerStore(stored: number, version: number): ConcordError {
  return new ConcordError(
    'unavailable',
    `the store's rows are written for schema version ${stored}, newer than this server's ${version}: run a server with the newer schema`,
  );
}
