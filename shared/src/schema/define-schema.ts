/** The value types a replicated column may hold. Every column may also hold `null`. */
const COLUMN_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export type Tracking = 'row' | 'column';

const DIRECTIONS = ['bidirectional', 'upload-only', 'download-only'] as const;
/**
 * Which way a table's changes flow. `upload-only`: the server accepts uploads but never sends
 * the table's rows down. `download-only`: every upload is refused and logged as a failed change,
 * and the uploader gets the server's row back.
 */
export type Direction = (typeof DIRECTIONS)[number];

/** How a table is declared by the application. */
export interface TableInput {
  /** The field holding the rowguid; defaults to `id`. It is not listed in `columns`. */
  key?: string;
  /** Every replicated column and its type. Unknown columns are refused at the server edge. */
  columns: Record<string, ColumnType>;
  /** Extra Dexie indexes for the client (column names or Dexie index expressions). */
  indexes?: string[];
  /** `row` (default): any two changes to one row conflict. `column`: only changes to the same column do. */
  tracking?: Tracking;
  /**
   * Columns holding collaborative text: each is a `string` column whose edits travel as Yjs
   * updates (`Y.Text` named `text` in the field's `Y.Doc`), merged by the server without conflicts;
   * the column's value is the text.
   */
  crdt?: string[];
  /** `bidirectional` (default), `upload-only` or `download-only`; part of the publication, so replicas know it too. */
  direction?: Direction;
}

/**
 * What one version changed that data written under the version before it must follow: columns
 * `renamed` (per table, old name → new name) and `removed` (per table). Adding a table or a
 * nullable column needs no migration.
 */
export interface MigrationInput {
  /** The version this migration leads to (from the one before it). */
  version: number;
  renamed?: Record<string, Record<string, string>>;
  removed?: Record<string, string[]>;
}

export interface SchemaInput {
  /**
   * Bumped whenever tables or columns change. A server serves its own version and the older ones
   * it is given (`olderSchemas`); a replica upgrades its database when it opens with a newer one.
   */
  version: number;
  tables: Record<string, TableInput>;
  /** How data written under older versions maps to this one: a renamed or removed column. */
  migrations?: MigrationInput[];
}

export interface Migration {
  version: number;
  renamed: Readonly<Record<string, Readonly<Record<string, string>>>>;
  removed: Readonly<Record<string, readonly string[]>>;
}

export interface TableDef {
  name: string;
  key: string;
  columns: Readonly<Record<string, ColumnType>>;
  columnNames: readonly string[];
  indexes: readonly string[];
  tracking: Tracking;
  direction: Direction;
  /** Columns whose edits are Yjs updates (see `TableInput.crdt`). */
  crdt: readonly string[];
}

export interface Schema {
  version: number;
  tables: Readonly<Record<string, TableDef>>;
  tableNames: readonly string[];
  /** In version order. */
  migrations: readonly Migration[];
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * A table, column or key name: letters, digits and `_`, not starting with `_` (system tables do),
 * and never a name every JavaScript object already has (`constructor`, `toString`, …).
 */
function checkName(what: string, name: string, label = name): void {
  if (!NAME.test(name)) throw new Error(`${what} "${label}" must match ${NAME}`);
  if (name in Object.prototype) throw new Error(`${what} "${label}" is reserved: every JavaScript object has it`);
}

/** The table called `name`, looked up as the schema's own: `__proto__` or `constructor` name no table. */
export function tableOf(schema: Schema, name: string): TableDef | undefined {
  return Object.hasOwn(schema.tables, name) ? schema.tables[name] : undefined;
}

/** The type of `table.column`, looked up as the table's own column, or undefined. */
export function columnTypeOf(table: TableDef, column: string): ColumnType | undefined {
  return Object.hasOwn(table.columns, column) ? table.columns[column] : undefined;
}

/**
 * Validates and normalizes a schema. Throws a descriptive error for anything a
 * server or replica could not honour, so mistakes surface at startup, never mid-sync.
 */
export function defineSchema(input: SchemaInput): Schema {
  if (!Number.isInteger(input.version) || input.version < 1) {
    throw new Error(`schema version must be a positive integer, got ${String(input.version)}`);
  }
  const tables: Record<string, TableDef> = {};
  for (const [name, table] of Object.entries(input.tables)) {
    tables[name] = defineTable(name, table);
  }
  if (Object.keys(tables).length === 0) throw new Error('schema must declare at least one table');
  const schema = { version: input.version, tables, tableNames: Object.keys(tables), migrations: [] as Migration[] };
  schema.migrations = defineMigrations(schema, input.migrations ?? []);
  return Object.freeze(schema);
}

/**
 * Checks the migrations against the schema: one per version, each leading to a version after 1
 * and up to this one, naming tables of this schema, and every renamed column ending, through the
 * later migrations, as a column of this schema or removed.
 */
function defineMigrations(schema: Schema, inputs: readonly MigrationInput[]): Migration[] {
  const migrations = [...inputs].sort((a, b) => a.version - b.version);
  migrations.forEach(({ version }, i) => {
    if (!Number.isInteger(version) || version < 2 || version > schema.version) {
      throw new Error(`migration version must be an integer from 2 to ${schema.version}, got ${String(version)}`);
    }
    if (i > 0 && migrations[i - 1]!.version === version) throw new Error(`two migrations lead to version ${version}`);
  });
  const defined = migrations.map(({ version, renamed = {}, removed = {} }): Migration =>
    Object.freeze({
      version,
      renamed: Object.freeze(
        Object.fromEntries(Object.entries(renamed).map(([table, names]) => [table, Object.freeze({ ...names })])),
      ),
      removed: Object.freeze(
        Object.fromEntries(Object.entries(removed).map(([table, names]) => [table, Object.freeze([...names])])),
      ),
    }),
  );
  for (const migration of defined) {
    const label = `migration to version ${migration.version}`;
    for (const [table, names] of [
      ...Object.entries(migration.renamed).map(([table, names]) => [table, Object.entries(names).flat()] as const),
      ...Object.entries(migration.removed),
    ]) {
      checkName(`${label}: table`, table);
      if (!tableOf(schema, table)) throw new Error(`${label} names table "${table}", which this schema does not have`);
      for (const name of names) checkName(`${label}: column`, name, `${table}.${name}`);
    }
    for (const [table, names] of Object.entries(migration.renamed)) {
      for (const [from, to] of Object.entries(names)) {
        const now = currentName(defined, table, to, migration.version);
        if (now !== undefined && !columnTypeOf(schema.tables[table]!, now)) {
          throw new Error(
            `${label} renames "${table}.${from}" to "${to}", which is neither a column of version ${schema.version} nor renamed or removed later`,
          );
        }
      }
    }
  }
  return defined;
}

/**
 * The name column `column` of `table`, as written under version `from`, has in the newest
 * version: each later migration may rename it, or remove it (undefined).
 */
export function currentName(
  migrations: readonly Migration[],
  table: string,
  column: string,
  from: number,
): string | undefined {
  let name = column;
  for (const { version, renamed, removed } of migrations) {
    if (version <= from) continue;
    if (Object.hasOwn(removed, table) && removed[table]!.includes(name)) return undefined;
    const names = Object.hasOwn(renamed, table) ? renamed[table]! : undefined;
    if (names && Object.hasOwn(names, name)) name = names[name]!;
  }
  return name;
}

function defineTable(name: string, input: TableInput): TableDef {
  checkName('table name', name);
  const key = input.key ?? 'id';
  checkName(`table "${name}": key`, key);
  const columns = input.columns ?? {};
  for (const [column, type] of Object.entries(columns)) {
    checkName('column', column, `${name}.${column}`);
    if (!COLUMN_TYPES.includes(type)) {
      throw new Error(
        `column "${name}.${column}" has unknown type "${String(type)}"; use one of ${COLUMN_TYPES.join(', ')}`,
      );
    }
  }
  if (Object.hasOwn(columns, key)) throw new Error(`table "${name}": key "${key}" must not be listed in columns`);
  const crdt = input.crdt ?? [];
  if (!Array.isArray(crdt)) throw new Error(`table "${name}": crdt must be a list of column names`);
  for (const column of crdt) {
    if (columnTypeOf({ columns } as TableDef, column) !== 'string') {
      throw new Error(`table "${name}": crdt column "${String(column)}" must be one of its string columns`);
    }
  }
  const tracking = input.tracking ?? 'row';
  if (tracking !== 'row' && tracking !== 'column') {
    throw new Error(`table "${name}": tracking must be 'row' or 'column'`);
  }
  const direction = input.direction ?? 'bidirectional';
  if (!DIRECTIONS.includes(direction)) {
    throw new Error(`table "${name}": direction must be one of ${DIRECTIONS.join(', ')}`);
  }
  return Object.freeze({
    name,
    key,
    columns: Object.freeze({ ...columns }),
    columnNames: Object.freeze(Object.keys(columns)),
    indexes: Object.freeze([...(input.indexes ?? [])]),
    tracking,
    direction,
    crdt: Object.freeze([...new Set(crdt)]),
  });
}
