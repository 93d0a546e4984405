import { isDeepStrictEqual } from 'node:util';
import type { Replica } from '@concord/client';
import type { ConflictEntry, Schema } from '@concord/shared';
import type { Store } from '@concord/server';
import type { Delivery } from './network';
import type { Spoil } from './poisoner';
import type { WriteRecord } from './writes';

export type Check =
  | 'final-sync'
  | 'server-errors'
  | 'convergence'
  | 'accounting'
  | 'duplicates'
  | 'resolutions'
  | 'outbox'
  | 'wire'
  | 'phantoms'
  | 'validation';

/** The oracle's verdict on a run: which checks failed, and why. */
export class OracleFailure extends Error {
  constructor(
    readonly checks: Check[],
    message: string,
  ) {
    super(message);
    this.name = 'OracleFailure';
  }
}

/** The most bytes of a refused change's values the conflict log keeps (README "Errors"). */
const MAX_LOGGED_BYTES = 64 * 1024;

/** A value as a failure message shows it: long strings cut short. */
export const shown = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    typeof v === 'string' && v.length > 40 ? `${v.slice(0, 12)}…(${v.length} chars)` : v,
  );

/** table → rowguid → values, with null and missing columns alike left out. */
export type Rows = Record<string, Record<string, Record<string, unknown>>>;

const normalize = (values: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));

/** The live rows at the server (tombstones left out). */
export async function storeRows(store: Store, schema: Schema): Promise<Rows> {
  const rows: Rows = Object.fromEntries(schema.tableNames.map((name) => [name, {}]));
  const page = await store.changesSince({ after: 0, limit: 1_000_000 });
  for (const row of page.rows) if (!row.deleted) rows[row.table]![row.rowguid] = normalize(row.values);
  return rows;
}

/** The rows of a replica, keyed like `storeRows`. */
export async function replicaRows(replica: Replica, schema: Schema): Promise<Rows> {
  const rows: Rows = {};
  for (const table of Object.values(schema.tables)) {
    rows[table.name] = {};
    for (const row of (await replica.db.table(table.name).toArray()) as Record<string, unknown>[]) {
      const { [table.key]: rowguid, ...values } = row;
      rows[table.name]![rowguid as string] = normalize(values);
    }
  }
  return rows;
}

/** The whole conflict log, page by page. */
export async function conflictLog(store: Store): Promise<ConflictEntry[]> {
  const log: ConflictEntry[] = [];
  for (let after: string | undefined; ;) {
    const page = await store.listConflicts({ limit: 1000, after });
    log.push(...page);
    if (page.length < 1000) return log;
    after = page[page.length - 1]!.id;
  }
}

/** (a) Where a replica's rows differ from the server's: one line per differing row. */
export function rowDifferences(expected: Rows, actual: Rows): string[] {
  const lines: string[] = [];
  for (const table of Object.keys(expected)) {
    const want = expected[table]!;
    const got = actual[table] ?? {};
    for (const rowguid of new Set([...Object.keys(want), ...Object.keys(got)])) {
      if (isDeepStrictEqual(want[rowguid], got[rowguid])) continue;
      lines.push(`${table}/${rowguid}: server ${shown(want[rowguid])}, replica ${shown(got[rowguid])}`);
    }
  }
  return lines;
}

/** (c) Conflict entries logged more than once for one change (same replica, generation, row and columns). */
export function duplicateConflicts(log: readonly ConflictEntry[]): string[] {
  const seen = new Map<string, ConflictEntry>();
  const lines: string[] = [];
  for (const entry of log) {
    const key = [entry.replicaId, entry.localGeneration, entry.table, entry.rowguid, [...entry.columns].sort()].join(
      '|',
    );
    const first = seen.get(key);
    if (first) lines.push(`${key}: entries ${first.id} and ${entry.id}`);
    else seen.set(key, entry);
  }
  return lines;
}

/**
 * (d) No resolution is undone: a value that lost a logged conflict to another value of its
 * column (values are unique per write) must not be final, unless a conflict logged it as a
 * winner too (a merge that chose it). Only a re-sent copy of the losing change could bring it
 * back. A delete that won is left out: an update that missed it may bring the row back.
 */
export function undoneResolutions(log: readonly ConflictEntry[], final: Rows): string[] {
  const lines: string[] = [];
  for (const entry of log) {
    const row = final[entry.table]?.[entry.rowguid];
    if (!row || !entry.losingValues || !entry.winningValues) continue;
    for (const [column, value] of Object.entries(entry.losingValues)) {
      if (value === null || typeof value === 'boolean' || !(column in entry.winningValues)) continue;
      if (!isDeepStrictEqual(row[column], value)) continue;
      const won = log.some(
        (other) =>
          other.table === entry.table &&
          other.rowguid === entry.rowguid &&
          isDeepStrictEqual(other.winningValues?.[column], value),
      );
      if (!won)
        lines.push(`${entry.table}/${entry.rowguid}.${column}=${shown(value)} lost conflict ${entry.id} but is final`);
    }
  }
  return lines;
}

export interface AccountingInput {
  schema: Schema;
  writes: readonly WriteRecord[];
  /** The final rows (every replica's, once converged). */
  final: Rows;
  log: readonly ConflictEntry[];
  /**
   * Conflict entries a restore lost: the store held them just before a restore put back a backup
   * taken before they were written. The decisions they record were made (the losing replica took
   * the winning version), so they account for losers as the final log does.
   */
  lostLog?: readonly ConflictEntry[];
  /** Which replica each server-given replicaId belongs to. */
  replicaOf: ReadonlyMap<string, number>;
  /** Every push the server took (answered 2xx: applied, or a replay). */
  deliveries: readonly Delivery[];
  /** Changes the wire spoiled on their way to the server. */
  spoils?: readonly Spoil[];
  /** A string longer than this is huge: no push can carry a change holding it. */
  hugeBeyond?: number;
}

/**
 * (b) Every write must be accounted for. Values are unique per write, so a value names its write.
 * An upsert's column value must be present in the final row; or overwritten by a later write
 * (by anyone) that set the column or deleted the row; or named as a losing value in the conflict
 * log; or lost to a merge that chose another value (a merge logs the uploaded side only); or
 * sent in a change the wire spoiled, which the log names as a refused (`failed-change`, resolver
 * `schema`) change with exactly the spoiled values. A delete must leave the row gone; or be
 * followed by a later write of the row; or lose a logged conflict (its losing side null); or
 * have cancelled the replica's own insert, which no push carried to the server in between
 * (ARCHITECTURE §4.3); or have met a row another replica had deleted already, since re-created
 * as a new row this replica never had. Nulls and booleans are not unique and are not checked.
 *
 * The log is the final one together with the entries restores lost (`lostLog`): a restore
 * loses no write the oracle excuses — every write acknowledged after the backup must come back
 * from a replica that holds it — but it does lose the record of decisions already made. A heal
 * edit (the harness making a change too large for any push smaller) overwrites only huge
 * values, which no push ever carried: it excuses no other value and no delete.
 */
export function unaccountedWrites({
  schema,
  writes,
  final,
  log: finalLog,
  lostLog = [],
  replicaOf,
  deliveries,
  spoils = [],
  hugeBeyond = Number.POSITIVE_INFINITY,
}: AccountingInput): string[] {
  const log = [...finalLog, ...lostLog];
  const byRow = groupBy(writes, (w) => `${w.table}/${w.rowguid}`);
  const entriesByRow = groupBy(log, (e) => `${e.table}/${e.rowguid}`);
  const spoilsByRow = groupBy(spoils, (s) => `${s.table}/${s.rowguid}`);
  const huge = (value: unknown) => typeof value === 'string' && value.length > hugeBeyond;
  const lines: string[] = [];
  for (const w of writes) {
    const key = `${w.table}/${w.rowguid}`;
    const rowWrites = byRow.get(key) ?? [];
    const entries = entriesByRow.get(key) ?? [];
    const row = final[w.table]?.[w.rowguid];
    const later = rowWrites.filter((other) => other.id > w.id);
    const describe = () =>
      `write #${w.id} by r${w.replica}${w.heal ? ' (heal)' : ''}: ${w.op} ${key} ${w.op === 'upsert' ? shown(w.values) : ''}`;
    if (w.op === 'delete') {
      if (!row || later.some((other) => other.op === 'upsert' && !other.heal)) continue;
      const lost = entries.some(
        (e) => e.losingValues === null && (replicaOf.get(e.loser ?? '') === w.replica || e.type === 'update-delete'),
      );
      // The delete cancelled the replica's own insert if no push carried the row since it was created.
      const own = rowWrites.filter((other) => other.replica === w.replica && other.id < w.id && other.created).at(-1);
      const cancelled =
        own !== undefined &&
        !deliveries.some((d) => d.replica === w.replica && d.rows.has(key) && d.at >= own.id && d.at < w.id);
      // The delete met a row another replica had deleted already (no conflict), and the row there
      // now is a new one, created after that delete, holding no value this replica had deleted.
      const absorbed = rowWrites.some(
        (d) =>
          d.op === 'delete' &&
          d.replica !== w.replica &&
          d.id < w.id &&
          rowWrites.some((c) => c.created && c.id > d.id && !sharesValue(c.values, w.deleted ?? {})),
      );
      if (lost || cancelled || absorbed) continue;
      lines.push(`${describe()}: the row is present (${shown(row)}) and no conflict logs the delete`);
      continue;
    }
    const types = schema.tables[w.table]!.columns;
    for (const [column, value] of Object.entries(w.values)) {
      if (value === null || types[column] === 'boolean') continue;
      if (row && isDeepStrictEqual(row[column], value)) continue;
      const overwritten = (other: WriteRecord) =>
        (other.op === 'delete' || column in other.values) && (!other.heal || huge(value));
      if (later.some(overwritten)) continue;
      const logged = entries.some((e) =>
        e.loser === null
          ? e.columns.includes(column) && !isDeepStrictEqual(e.winningValues?.[column], value)
          : e.losingValues !== null && isDeepStrictEqual(e.losingValues[column], value),
      );
      if (logged) continue;
      // Sent in a spoiled change, which the server refused and logged with the spoiled values
      // (or with none, where they take more than the 64 KiB the log keeps of a refused change).
      const refused = (spoilsByRow.get(key) ?? []).some(
        (spoil) =>
          isDeepStrictEqual(spoil.original[column], value) &&
          entries.some(
            (e) =>
              e.type === 'failed-change' &&
              e.resolver === 'schema' &&
              (isDeepStrictEqual(e.losingValues, spoil.poisoned) ||
                (e.losingValues === null && JSON.stringify(spoil.poisoned).length > MAX_LOGGED_BYTES)),
          ),
      );
      if (refused) continue;
      lines.push(
        `${describe()}: ${column}=${shown(value)} is lost: final ${row ? shown(row[column]) : 'row absent'}, ` +
          `no later write of the column, not in the conflict log (${entries.length} entries for the row)`,
      );
    }
  }
  return lines;
}

/**
 * (e) No value comes from nowhere: every final value (nulls and booleans aside) was written to
 * its row and column by a write the model recorded. A write refused as too large, or rolled back
 * with its transaction, was never made, and a spoiled value the server refused must not be kept.
 */
export function phantomValues(writes: readonly WriteRecord[], final: Rows): string[] {
  const written = new Set<string>();
  const keyOf = (table: string, rowguid: string, column: string, value: unknown) =>
    `${table}/${rowguid}.${column}=${JSON.stringify(value)}`;
  for (const w of writes) {
    for (const [column, value] of Object.entries(w.values)) written.add(keyOf(w.table, w.rowguid, column, value));
  }
  const lines: string[] = [];
  for (const [table, rows] of Object.entries(final)) {
    for (const [rowguid, row] of Object.entries(rows)) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null || typeof value === 'boolean' || written.has(keyOf(table, rowguid, column, value))) continue;
        lines.push(`${table}/${rowguid}.${column}=${shown(value)} is final, but no recorded write wrote it there`);
      }
    }
  }
  return lines;
}

/** Whether two rows hold one of the same unique values (nulls and booleans are not unique). */
function sharesValue(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.entries(a).some(
    ([column, value]) => value !== null && typeof value !== 'boolean' && isDeepStrictEqual(b[column], value),
  );
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return groups;
}
