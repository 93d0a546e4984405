import type { Dexie } from 'dexie';
import { ConcordError, PROTOCOL_LIMITS, addHash, rowHasher, type Schema, type TableChecksum } from '@concord/shared';
import { SYSTEM_TABLES, outbox, rowKey } from '../storage/replica-db';
import { replicaState } from '../storage/replica-state';
import { pickValues } from '../storage/row-values';
import { needsRecovery } from '../sync/begin-recovery';
import type { Transport } from '../sync/transport';

/** One table compared: this replica's rows and the server's rows for its partition. */
export interface TableValidation {
  table: string;
  ok: boolean;
  replica: TableChecksum;
  server: TableChecksum;
}

export interface ValidationReport {
  /** True when every table matched. */
  ok: boolean;
  /** Every table the server sends down (upload-only tables are not compared). */
  tables: TableValidation[];
  /** The tables that differed. After a repair: those that still differ (none, unless rows kept changing). */
  mismatched: string[];
  /** With `repair`: the tables reinitialized (downloaded afresh, pending changes kept). */
  repaired: string[];
  /**
   * Rows left out of both sides: this replica's pending changes, and rows changed on the server
   * since its last download. A sync runs first, so there are few.
   */
  excluded: number;
}

export interface ValidateOptions {
  /** Reinitializes the tables that differ — pending changes uploaded first and kept — then compares again. */
  repair?: boolean;
}

export interface ValidationDeps {
  db: Dexie;
  schema: Schema;
  transport: Transport;
  /** One sync round (in whichever tab leads). */
  sync(): Promise<unknown>;
}

/** How often a comparison is asked again when the server's rows changed meanwhile. */
const ATTEMPTS = 4;

/**
 * Compares every downloaded table with the server: a sync round first (pending changes up, newest
 * rows down), then, on one snapshot of the local database, each table's row count and checksum
 * (the sum of row hashes, `rowHasher`) next to the server's for this replica's partition, computed in the
 * store's SQL. Rows with a pending change are left out of both sides, and so are those the server
 * changed since this replica's cursor.
 */
export async function validateReplica(deps: ValidationDeps, { repair = false }: ValidateOptions = {}) {
  const first = await compare(deps);
  if (!repair || first.ok) return first;
  await deps.db.transaction('rw', '_state', async (tx) => {
    const state = replicaState(tx);
    const under = await state.get('recovery');
    // A recovery under way (another tab's repair, a restored store, a schema upgrade) goes on:
    // one of every table covers these; one of some tables takes these too.
    if (under && !under.tables) return;
    const tables = [...new Set([...(under?.tables ?? []), ...first.mismatched])];
    await state.set({ recovery: { known: 0, lostWrites: false, forgotten: false, realign: true, ...under, tables } });
  });
  return { ...(await compare(deps)), repaired: first.mismatched };
}

async function compare(deps: ValidationDeps): Promise<ValidationReport> {
  for (let attempt = 1; ; attempt++) {
    // A round that fails (a push refused, a change too large) leaves changes pending, which the
    // comparison leaves out; a server out of reach fails the comparison itself.
    await deps.sync().catch(() => undefined);
    const local = await snapshot(deps);
    let answer;
    try {
      answer = await deps.transport.validate(local.request);
    } catch (error) {
      // The round that follows recovers (a restored store, a changed partition, an expired replica).
      if (needsRecovery(error) && attempt < ATTEMPTS) continue;
      throw error;
    }
    if (answer.behind) {
      if (attempt < ATTEMPTS) continue;
      throw new ConcordError(
        'unavailable',
        `the server's rows for this replica kept changing during ${ATTEMPTS} comparisons: validate again later`,
      );
    }
    const tables = answer.tables
      .filter(({ table }) => local.tables.has(table))
      .map(({ table, count, checksum }): TableValidation => {
        const { sum, hashes } = local.tables.get(table)!;
        const replica = { ...sum };
        // Rows the server changed since the cursor are left out here too.
        for (const row of answer.changed) {
          const hash = row.table === table ? hashes.get(row.rowguid) : undefined;
          if (hash === undefined) continue;
          replica.count -= 1;
          replica.checksum = addHash(replica.checksum, hash, -1);
        }
        const ok = replica.count === count && replica.checksum === checksum;
        return { table, ok, replica, server: { count, checksum } };
      });
    const mismatched = tables.filter((table) => !table.ok).map(({ table }) => table);
    const keys = [...local.request.exclude, ...answer.changed].map(({ table, rowguid }) => rowKey(table, rowguid));
    const excluded = new Set(keys).size;
    return { ok: mismatched.length === 0, tables, mismatched, repaired: [], excluded };
  }
}

/**
 * One read of the local database: the download cursor, the rows with pending changes, and, per
 * downloaded table, the count and checksum of every other row and each one's hash.
 */
async function snapshot({ db, schema }: ValidationDeps) {
  const downloaded = Object.values(schema.tables).filter((table) => table.direction !== 'upload-only');
  const names = [...downloaded.map((table) => table.name), ...SYSTEM_TABLES];
  const rowHash = await rowHasher();
  return db.transaction('r', names, async (tx) => {
    const state = replicaState(tx);
    const [replicaId, secret, after, commit] = [
      await state.get('replicaId'),
      await state.get('secret'),
      await state.get('receivedGeneration'),
      await state.get('receivedCommit'),
    ];
    if (!replicaId) throw new ConcordError('unknown_replica', 'this replica has not registered with the server yet');
    const exclude = (await outbox(tx).toArray()).map(({ table, rowguid }) => ({ table, rowguid }));
    if (exclude.length > PROTOCOL_LIMITS.maxChangesPerPush) {
      throw new ConcordError(
        'payload_too_large',
        `validate() leaves pending changes out, at most ${PROTOCOL_LIMITS.maxChangesPerPush} of them; ${exclude.length} are pending: sync first`,
      );
    }
    const pending = new Set(exclude.map(({ table, rowguid }) => rowKey(table, rowguid)));
    const tables = new Map<string, { sum: TableChecksum; hashes: Map<string, number> }>();
    for (const table of downloaded) {
      const rows = (await tx.table(table.name).toArray()) as Record<string, unknown>[];
      const sum = { count: 0, checksum: 0 };
      const hashes = new Map<string, number>();
      for (const row of rows) {
        const rowguid = row[table.key] as string;
        if (pending.size > 0 && pending.has(rowKey(table.name, rowguid))) continue;
        const hash = rowHash(rowguid, pickValues(row, table.columnNames));
        hashes.set(rowguid, hash);
        sum.count += 1;
        sum.checksum = addHash(sum.checksum, hash);
      }
      tables.set(table.name, { sum, hashes });
    }
    return {
      request: {
        schemaVersion: schema.version,
        replicaId,
        ...(secret && { secret }),
        after,
        ...(commit && { commit }),
        exclude,
      },
      tables,
    };
  });
}
