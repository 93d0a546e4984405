import {
  ConcordError,
  fitsColumn,
  type FromReplicaChange,
  type RowValues,
  type Schema,
  type TableDef,
} from '@concord/shared';

/**
 * Checks uploaded changes against the schema before anything is written. The first problem
 * refuses the whole push (unknown table or column, a value of the wrong type), so a bad
 * request changes nothing.
 */
export function checkChanges(schema: Schema, changes: readonly FromReplicaChange[]): void {
  const seen = new Set<string>();
  changes.forEach((change, index) => {
    const where = `changes[${index}]`;
    const table = schema.tables[change.table];
    if (!table)
      throw new ConcordError('unknown_table', `${where}: unknown table "${change.table}"`, {
        index,
        table: change.table,
      });
    const key = `${change.table}\u0000${change.rowguid}`;
    if (seen.has(key)) {
      throw new ConcordError('bad_request', `${where}: row "${change.rowguid}" appears twice in one push`, { index });
    }
    seen.add(key);
    if (change.op === 'delete' && change.values !== undefined) {
      throw new ConcordError('bad_request', `${where}: a delete carries no values`, { index });
    }
    checkValues(table, change.values, where, index);
    checkValues(table, change.base, where, index);
  });
}

function checkValues(table: TableDef, values: RowValues | undefined, where: string, index: number): void {
  for (const [column, value] of Object.entries(values ?? {})) {
    const type = table.columns[column];
    if (!type) {
      throw new ConcordError('unknown_column', `${where}: unknown column "${table.name}.${column}"`, { index, column });
    }
    if (!fitsColumn(type, value)) {
      throw new ConcordError(
        'invalid_value',
        `${where}: ${table.name}.${column} must be ${type}, got ${JSON.stringify(value)}`,
        {
          index,
          column,
          expected: type,
        },
      );
    }
  }
}
