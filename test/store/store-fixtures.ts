import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { conflictEntry, type ConflictEntry, type RowValues } from '@concord/shared';
import {
  createMemoryDatabase,
  createMemoryStore,
  createPostgresStore,
  createSqliteStore,
  type ReplicaRecord,
  type Store,
  type StoredRow,
} from '@concord/server';
import { createTestDatabase } from '../support/postgres-database';

/** One empty database of some kind; `open()` makes another store instance on it. */
export interface StoreLocation {
  open(): Store;
  /** Closes every store opened here (those already closed are fine) and removes the database files. */
  dispose(): Promise<void>;
}

export interface StoreKind {
  name: string;
  /** 'many' when several stores may be open on one database at once, as processes on one SQL server. */
  instances: 'one' | 'many';
  /** A fresh, empty database. */
  create(): Promise<StoreLocation>;
}

function tracked(make: () => Store, cleanup: () => void = () => undefined): StoreLocation {
  const opened: Store[] = [];
  return {
    open() {
      const store = make();
      opened.push(store);
      return store;
    },
    async dispose() {
      for (const store of opened) await store.close().catch(() => undefined);
      cleanup();
    },
  };
}

/** Every store implementation: the contract suites run over each with `describe.each`. */
export const storeKinds: StoreKind[] = [
  {
    name: 'memory',
    instances: 'many',
    async create() {
      const database = createMemoryDatabase();
      return tracked(() => createMemoryStore({ database }));
    },
  },
  {
    name: 'SQLite',
    instances: 'one',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'concord-store-test-'));
      const filename = join(dir, 'store.db');
      return tracked(
        () => createSqliteStore({ filename }),
        () => rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    name: 'PostgreSQL',
    instances: 'many',
    async create() {
      const connectionString = await createTestDatabase();
      return tracked(() => createPostgresStore({ connectionString, max: 20 }));
    },
  },
];

export function row(
  table: string,
  rowguid: string,
  generation: number,
  writer: string,
  values: RowValues,
  extra: Partial<StoredRow> = {},
): StoredRow {
  return { table, rowguid, values, deleted: false, generation, writer, priority: 0, ...extra };
}

/** A live note written by `r-a`, titled by its rowguid, for `commitRows`. */
export const note = (rowguid: string): Omit<StoredRow, 'generation'> => ({
  table: 'notes',
  rowguid,
  values: { title: rowguid },
  deleted: false,
  writer: 'r-a',
  priority: 0,
});

export function replica(replicaId: string, extra: Partial<ReplicaRecord> = {}): ReplicaRecord {
  return {
    replicaId,
    priority: 0,
    createdAt: '2024-05-01T10:00:00.000Z',
    lastSyncAt: null,
    lastAppliedLocalGeneration: 0,
    lastPulledGeneration: 0,
    secretHash: null,
    subject: null,
    partition: null,
    ...extra,
  };
}

/** A conflict log entry, validated against the wire type so the store is fed what the server would feed it. */
export function conflict(id: string, extra: Partial<ConflictEntry> = {}): ConflictEntry {
  return conflictEntry.parse({
    id,
    table: 'notes',
    rowguid: 'n1',
    columns: ['title'],
    type: 'update-update',
    resolver: 'priority',
    status: 'resolved',
    winner: 'r-a',
    loser: 'r-b',
    winningValues: { title: 'from a' },
    losingValues: { title: 'from b' },
    reason: 'equal priority: the version at the server stays',
    replicaId: 'r-b',
    localGeneration: 1,
    generation: 1,
    createdAt: '2024-05-01T10:05:00.000Z',
    ...extra,
  });
}

/** Writes rows in one transaction, each at a freshly allocated generation in the given order. */
export async function commitRows(store: Store, rows: Omit<StoredRow, 'generation'>[]): Promise<StoredRow[]> {
  return store.transaction(async (tx) => {
    const first = await tx.allocateGenerations(rows.length);
    const written = rows.map((r, i) => ({ ...r, generation: first + i }));
    await tx.writeRows(written);
    return written;
  });
}

/** Pages through changesSince with a small limit and returns every page. */
export async function allPages(store: Store, limit: number, exceptWriter?: string) {
  const pages = [];
  let cursor = 0;
  for (let more = true; more;) {
    const page = await store.changesSince({ after: cursor, limit, exceptWriter });
    expect(page.rows.every((r) => r.generation > cursor && r.generation <= page.cursor)).toBe(true);
    expect(page.cursor).toBeGreaterThanOrEqual(cursor);
    pages.push({ after: cursor, ...page });
    cursor = page.cursor;
    more = page.more;
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}
