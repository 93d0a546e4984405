import {
  defineSchema,
  type ConflictInput,
  type ConflictType,
  type FromReplicaChange,
  type Resolution,
  type RowValues,
} from '@concord/shared';
import type { ResolverConfig } from '@concord/server';
import { remove, upsert, type TestServer, type TestServerOptions } from '../support/test-server';
import { useTestWorld } from '../support/test-world';

/** Row-tracked `tasks`, column-tracked `counts`, and one table of each direction. */
export const schema = defineSchema({
  version: 1,
  tables: {
    tasks: {
      columns: {
        title: 'string',
        body: 'string',
        rank: 'integer',
        score: 'number',
        due: 'date',
        done: 'boolean',
        meta: 'json',
      },
    },
    counts: {
      columns: { qty: 'integer', price: 'number', text: 'string', seen: 'date', label: 'string' },
      tracking: 'column',
    },
    audit: { columns: { message: 'string' }, direction: 'upload-only' },
    rates: { columns: { amount: 'number' }, direction: 'download-only' },
  },
});

export interface Sides {
  server: RowValues | null;
  client: RowValues | null;
  base?: RowValues;
  columns?: string[];
  serverPriority?: number;
  clientPriority?: number;
  table?: string;
  type?: ConflictType;
}

/** A conflict as the engine would hand it to a resolver. */
export function conflict(sides: Sides): ConflictInput {
  const table = sides.table ?? 'tasks';
  return {
    table,
    type:
      sides.type ??
      (sides.server === null ? 'update-delete' : sides.client === null ? 'delete-update' : 'update-update'),
    columns: sides.columns ?? Object.keys(sides.client ?? sides.server ?? {}),
    base: sides.base ?? {},
    server: { values: sides.server, replicaId: 'replica-s', priority: sides.serverPriority ?? 0 },
    client: { values: sides.client, replicaId: 'replica-c', priority: sides.clientPriority ?? 0 },
    columnTypes: schema.tables[table]!.columns,
  };
}

export const kind = (resolution: Resolution) => resolution.kind;

export type Edit = RowValues | 'delete';

export interface Race {
  name: string;
  resolvers: ResolverConfig;
  table?: string;
  seed: RowValues;
  a: Edit;
  b: Edit;
  /** Replica priorities of A and B; default 0 each. */
  priorities?: [number, number];
  /** The surviving row (null: deleted) when A reaches the server first, and when B does. */
  ab: RowValues | null;
  ba: RowValues | null;
}

/** Servers on the resolver test schema, closed after each test. */
export function useResolverWorld() {
  const world = useTestWorld();
  const open = (options: TestServerOptions = {}): TestServer => world.start({ schema, ...options });

  /**
   * Two replicas edit one seeded row from the same base and upload in the given order, over
   * HTTP. Returns the row the server ends with (null for a tombstone).
   */
  async function race(spec: Race, order: 'ab' | 'ba'): Promise<RowValues | null> {
    const priorities = [0, ...(spec.priorities ?? [0, 0])];
    let next = 0;
    const server = open({ resolvers: spec.resolvers, replicaPriority: () => priorities[next++] ?? 0 });
    const table = spec.table ?? 'tasks';
    const seeder = (await server.register()).replicaId;
    const replicas = { a: (await server.register()).replicaId, b: (await server.register()).replicaId };
    const [seeded] = (await server.push(seeder, [upsert(table, 'r1', spec.seed, { gen: 1 })])).results;
    const base = seeded!.generation;
    const changeOf = (edit: Edit): FromReplicaChange => {
      if (edit === 'delete') return remove(table, 'r1', { gen: 1, base });
      const baseValues = Object.fromEntries(Object.keys(edit).map((column) => [column, spec.seed[column] ?? null]));
      return upsert(table, 'r1', edit, { gen: 1, base, baseValues });
    };
    for (const who of order === 'ab' ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
      await server.push(replicas[who], [changeOf(spec[who])]);
    }
    const row = (await server.store.changesSince({ after: 0, limit: 100 })).rows.find((r) => r.rowguid === 'r1')!;
    return row.deleted ? null : row.values;
  }

  return { open, race };
}
