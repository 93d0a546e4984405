import { ConcordError, currentName, valuesToCurrent, type Schema } from '@concord/shared';
import type { ColumnVersion, Store } from '../storage/store';

/** Rows rewritten per transaction: a migration never holds pushes back for long. */
const BATCH = 1_000;
const MAX_BYTES = 4 * 1024 * 1024;

/**
 * Brings the stored rows to the server's schema version when they were written for an older one:
 * a column a migration renamed takes its new name (in the values and the per-column versions),
 * one it removed goes. A batch per transaction, each row read again inside it. Generations do not
 * change: replicas at the new version download afresh when they upgrade, older ones are sent rows
 * in the names they know, and a pending edit made over a row's version still meets that version,
 * not a conflict. (An older replica keeps its copy of a removed column's value until it upgrades
 * or the row changes: the server no longer has the column.) A store that never recorded its version is taken to be at the
 * oldest version the migrations start from. A store written for a newer version than the server's
 * is refused (`unavailable`): the newer server must run. Idempotent; an interrupted run starts again.
 */
export async function migrateRows(store: Store, schema: Schema): Promise<void> {
  const meta = await store.meta();
  const from = meta.schemaVersion || Math.min(schema.version, ...schema.migrations.map(({ version }) => version - 1));
  if (from > schema.version) throw newerStore(from, schema.version);
  const tables = new Set(
    schema.migrations
      .filter(({ version }) => version > from)
      .flatMap(({ renamed, removed }) => [...Object.keys(renamed), ...Object.keys(removed)]),
  );
  for (let after = 0, more = tables.size > 0; more;) {
    const page = await store.changesSince({ after, limit: BATCH, maxBytes: MAX_BYTES });
    const keys = page.rows.filter((row) => tables.has(row.table));
    if (keys.length > 0) {
      await store.transaction(async (tx) => {
        const rows = [...(await tx.getRows(keys)).values()];
        for (const row of rows) {
          row.values = valuesToCurrent(schema, row.table, row.values, from);
          if (row.columns) {
            const columns: Record<string, ColumnVersion> = {};
            for (const [column, version] of Object.entries(row.columns)) {
              const name = currentName(schema.migrations, row.table, column, from);
              if (name !== undefined) columns[name] = version;
            }
            row.columns = columns;
          }
        }
        await tx.writeRows(rows);
      });
    }
    [after, more] = [page.cursor, page.more];
  }
  if (meta.schemaVersion !== schema.version) await store.transaction((tx) => tx.setSchemaVersion(schema.version));
}

export function newerStore(stored: number, version: number): ConcordError {
  return new ConcordError(
    'unavailable',
    `the store's rows are written for schema version ${stored}, newer than this server's ${version}: run a server with the newer schema`,
  );
}
