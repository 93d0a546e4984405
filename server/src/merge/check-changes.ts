import { ConcordError, type FromReplicaChange, type Schema } from '@concord/shared';
import { checkValues } from './check-values';

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
    checkValues(table, change.values, where, { index });
    checkValues(table, change.base, where, { index });
  });
}
