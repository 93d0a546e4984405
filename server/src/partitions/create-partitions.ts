import { createHash } from 'node:crypto';
import { columnTypeOf, rowguidProblem, tableOf, type JsonValue, type RowValues, type Schema } from '@concord/shared';
import type { Identity } from '../auth/identity';
import {
  rowKeyString,
  type PartitionView,
  type RowMove,
  type StoredRow,
  type StoreTransaction,
} from '../storage/store';
import { viewSees } from '../storage/view-sees';
import { WILDCARD, type ClaimFilter, type PartitionConfig, type TableFilter } from './partition-config';

/** The partition of a row no identity's claim names: no parent, or a value no claim can hold. */
const NOWHERE = 'null';

/** A table's filter as resolved at startup: its own, and the claim filter its chain ends at. */
interface ResolvedFilter {
  filter: TableFilter;
  root: ClaimFilter;
  /** How many parents up the chain its claim filter is. */
  depth: number;
}

export interface Partitions {
  /** Whether any table has a filter. */
  readonly active: boolean;
  /**
   * A fingerprint of what the filters partition by ('' for none): rows stamped under other
   * filters are stamped again. `moveOut` and the order of keys do not count.
   */
  readonly filtersPrint: string;
  /** How many parents up its chain a table's claim filter is (0 for a table without a parent). */
  depthOf(table: string): number;
  /** The greatest depth of any table. */
  readonly depth: number;
  /** What `identity` sees; undefined when it sees every row (no filters, or a wildcard claim for each). */
  viewOf(identity: Identity | undefined): PartitionView | undefined;
  /** A short fingerprint of a view: a replica downloaded for another one must download again. */
  fingerprint(view: PartitionView | undefined): string;
  /**
   * Whether a write the uploader's `view` may make stands: it leaves the row in the view, or
   * moves a live row out where the table allows it, or deletes a row that is not there (which
   * writes nothing anyone sees). The row before it must be in the view too: checked apart.
   */
  allows(view: PartitionView | undefined, before: StoredRow | undefined, row: StoredRow): boolean;
  /**
   * Stamps rows about to be written with their partition and parent. A parent is looked for in
   * `known` (rows of the same transaction) and then in the store.
   */
  stamp(tx: StoreTransaction, rows: readonly StoredRow[], known: ReadonlyMap<string, StoredRow>): Promise<void>;
  /**
   * After rows are written: every row whose partition changed is recorded as a move at its
   * generation (a new row is not a move), and its children follow it, at any depth, as moves at
   * the same generation without being written.
   */
  realign(tx: StoreTransaction, written: readonly { row: StoredRow; before: StoredRow | undefined }[]): Promise<void>;
}

/**
 * The partitions of a configuration, checked against the schema at startup: unknown tables or
 * columns, empty claims, parents without a filter and cycles are errors.
 */
export function createPartitions(schema: Schema, config: PartitionConfig = {}): Partitions {
  const filters = new Map<string, ResolvedFilter>();
  const children = new Map<string, string[]>();
  const entries = new Map(Object.entries(config));
  const resolve = (name: string, path: readonly string[]): ResolvedFilter => {
    const known = filters.get(name);
    if (known) return known;
    const filter = entries.get(name)!;
    const table = tableOf(schema, name);
    if (!table) throw new Error(`partitions: unknown table "${name}"`);
    if ('claim' in filter) {
      if (!columnTypeOf(table, filter.column)) throw new Error(`partitions.${name}: unknown column "${filter.column}"`);
      if (typeof filter.claim !== 'string' || filter.claim === '')
        throw new Error(`partitions.${name}: claim must name a token claim`);
      return { filter, root: filter, depth: 0 };
    }
    if (!columnTypeOf(table, filter.via)) throw new Error(`partitions.${name}: unknown column "${filter.via}"`);
    if (!entries.has(filter.parent) || !tableOf(schema, filter.parent)) {
      throw new Error(`partitions.${name}: parent "${filter.parent}" is not a table with a filter`);
    }
    if (path.includes(filter.parent)) throw new Error(`partitions.${name}: parents form a cycle`);
    const parent = resolve(filter.parent, [...path, name]);
    return { filter, root: parent.root, depth: parent.depth + 1 };
  };
  for (const name of entries.keys()) {
    filters.set(name, resolve(name, [name]));
    const filter = entries.get(name)!;
    if ('parent' in filter) children.set(filter.parent, [...(children.get(filter.parent) ?? []), name]);
  }

  function viewOf(identity: Identity | undefined): PartitionView | undefined {
    if (filters.size === 0) return undefined;
    const parts: (readonly [string, string])[] = [];
    const whole: string[] = [];
    for (const name of schema.tableNames) {
      const resolved = filters.get(name);
      if (!resolved) {
        parts.push([name, '']);
        continue;
      }
      const claim =
        identity && Object.hasOwn(identity.claims, resolved.root.claim)
          ? identity.claims[resolved.root.claim]
          : undefined;
      const values = claimValues(claim);
      if (values === 'all') whole.push(name);
      else for (const value of values) parts.push([name, value]);
    }
    // In one order whatever order the claims list their values in: a fingerprint compares views.
    parts.sort(([t1, p1], [t2, p2]) => (t1 === t2 ? (p1 < p2 ? -1 : 1) : t1 < t2 ? -1 : 1));
    return whole.length === filters.size ? undefined : { parts, whole };
  }

  async function stamp(tx: StoreTransaction, rows: readonly StoredRow[], known: ReadonlyMap<string, StoredRow>) {
    const wanted = rows.flatMap((row) => {
      const filter = filters.get(row.table)?.filter;
      const parent = filter && 'parent' in filter ? rowguidIn(row.values, filter.via) : null;
      return filter && 'parent' in filter && parent !== null && !known.has(rowKeyString(filter.parent, parent))
        ? [{ table: filter.parent, rowguid: parent }]
        : [];
    });
    const read = await tx.getRows(wanted);
    // Parents first: a row's parent may be written in the same batch.
    const depth = (row: StoredRow) => filters.get(row.table)?.depth ?? 0;
    for (const row of [...rows].sort((a, b) => depth(a) - depth(b))) {
      const filter = filters.get(row.table)?.filter;
      if (!filter) continue;
      if ('claim' in filter) {
        row.partition = partitionOf(Object.hasOwn(row.values, filter.column) ? row.values[filter.column] : null);
        continue;
      }
      row.parent = rowguidIn(row.values, filter.via);
      const key = row.parent === null ? '' : rowKeyString(filter.parent, row.parent);
      row.partition = (known.get(key) ?? read.get(key))?.partition ?? NOWHERE;
    }
  }

  async function realign(tx: StoreTransaction, written: readonly { row: StoredRow; before: StoredRow | undefined }[]) {
    const moves: RowMove[] = [];
    type Moved = Pick<RowMove, 'table' | 'rowguid' | 'generation' | 'to'>;
    let moved: Moved[] = [];
    for (const { row, before } of written) {
      const to = row.partition ?? '';
      if (before && (before.partition ?? '') !== to) {
        moves.push({
          table: row.table,
          rowguid: row.rowguid,
          generation: row.generation,
          from: before.partition ?? '',
          to,
        });
      }
      // A new parent is a move for children that named it before it existed.
      if ((before?.partition ?? NOWHERE) !== to) moved.push({ ...row, to });
    }
    while (moved.length > 0) {
      const next: Moved[] = [];
      for (const [parentTable, childTables] of children) {
        const parents = new Map(moved.filter((row) => row.table === parentTable).map((row) => [row.rowguid, row]));
        if (parents.size === 0) continue;
        for (const child of childTables) {
          const found = await tx.childrenOf(child, [...parents.keys()]);
          for (const row of found) {
            const parent = parents.get(row.parent!)!;
            const from = row.partition ?? '';
            if (from === parent.to) continue;
            moves.push({ table: child, rowguid: row.rowguid, generation: parent.generation, from, to: parent.to });
            next.push({ table: child, rowguid: row.rowguid, generation: parent.generation, to: parent.to });
          }
        }
      }
      moved = next;
    }
    await tx.moveRows(moves);
  }

  const hash = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
  const partitionedBy = [...entries]
    .map(([table, filter]) =>
      'claim' in filter ? [table, filter.column, filter.claim] : [table, filter.parent, filter.via],
    )
    .sort(([a], [b]) => (a! < b! ? -1 : 1));
  const filtersPrint = filters.size === 0 ? '' : hash(partitionedBy);
  const movesOut = (table: string) => filters.get(table)?.filter.moveOut === true;
  return {
    active: filters.size > 0,
    filtersPrint,
    depthOf: (table) => filters.get(table)?.depth ?? 0,
    depth: Math.max(0, ...[...filters.values()].map((filter) => filter.depth)),
    viewOf,
    // The filters count too: under other filters, the same claims may name other rows.
    fingerprint: (view) => hash([filtersPrint, view ?? 'all']),
    allows(view, before, row) {
      const live = before !== undefined && !before.deleted;
      return sees(view, row) || (live && movesOut(row.table)) || (row.deleted && !live);
    },
    stamp,
    realign,
  };
}

/** Whether `view` sees `row` where it stands (or would stand once written). */
export function sees(view: PartitionView | undefined, row: Pick<StoredRow, 'table' | 'partition'>): boolean {
  return viewSees(view, row.table, row.partition);
}

/** The partitions a claim's value names, or `all` for the wildcard; anything else names none. */
function claimValues(claim: JsonValue | undefined): string[] | 'all' {
  const values = Array.isArray(claim) ? claim : claim === undefined ? [] : [claim];
  if (values.includes(WILDCARD)) return 'all';
  return [...new Set(values.map(partitionOf))].filter((partition) => partition !== NOWHERE);
}

/** A column value as a partition: its JSON, for a string or a finite number; anything else is nowhere. */
function partitionOf(value: unknown): string {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
    ? JSON.stringify(value)
    : NOWHERE;
}

/** The rowguid a row's `via` column holds, or null: a value no rowguid can be names no parent. */
function rowguidIn(values: RowValues, via: string): string | null {
  const value = Object.hasOwn(values, via) ? values[via] : undefined;
  return typeof value === 'string' && rowguidProblem(value) === undefined ? value : null;
}
