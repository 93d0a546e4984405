import type { ColumnType, ConflictVersion, JsonValue, Resolver } from '@concord/shared';
import { byPriority } from './by-priority';

export interface CompareColumnOptions {
  /** The factory's name; the resolver is named `name(column)`. */
  name: string;
  column: string;
  accepts: readonly ColumnType[];
  /** Which value wins: the `larger` or the `smaller`. */
  wins: 'larger' | 'smaller';
  /** How the winning value reads in a logged reason: `later`, `larger`, ... */
  label: string;
}

/**
 * The shape shared by laterWins, earlierWins, maximum, minimum and priorityColumn: the version
 * whose `column` holds the winning value wins the whole conflict. A null value loses, and a
 * deleted version counts as null, so an update beats a delete unless its value is null too.
 * Both null or equal: priority decides (higher wins; equal keeps the server version). Dates
 * are compared as instants (`Date.parse`), numbers as numbers; a value that is neither is
 * refused rather than guessed at. Under row tracking the uploaded version is the server row with
 * the replica's changed columns laid over it, so a replica that did not write `column` carries
 * the server's value: a tie.
 */
export function compareColumn(options: CompareColumnOptions): Resolver {
  const { column, accepts, wins, label } = options;
  if (typeof column !== 'string' || column === '') {
    throw new Error(`${options.name}(column) needs the name of the column to compare`);
  }
  const name = `${options.name}(${column})`;
  return {
    name,
    column,
    accepts,
    resolve(input) {
      const type = input.columnTypes[column];
      const server = comparable(input.server, column, type);
      const client = comparable(input.client, column, type);
      if (server === undefined || client === undefined) {
        const [side, version] = server === undefined ? ['server', input.server] : ['uploaded', input.client];
        const value = JSON.stringify(version.values?.[column]);
        return { kind: 'reject', reason: `${name}: the ${side} value ${value} is not a number or a date` };
      }
      if (server === null && client === null) return byPriority(input, `${name}: both ${column} are null`);
      if (server === client) return byPriority(input, `${name}: both have the same ${column}`);
      if (client === null) return { kind: 'server', reason: `${name}: the uploaded ${column} is null and loses` };
      if (server === null) return { kind: 'client', reason: `${name}: the server's ${column} is null and loses` };
      const clientWins = wins === 'larger' ? client > server : client < server;
      return clientWins
        ? { kind: 'client', reason: `${name}: the uploaded version has the ${label} ${column}` }
        : { kind: 'server', reason: `${name}: the server version has the ${label} ${column}` };
    },
  };
}

/** A version's value as a number; null for a null value or a deleted version; undefined when not comparable. */
function comparable(version: ConflictVersion, column: string, type: ColumnType | undefined): number | null | undefined {
  const value: JsonValue | undefined = version.values === null ? null : version.values[column];
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return type === 'date' || !Number.isFinite(value) ? undefined : value;
  if (typeof value === 'string' && (type === 'date' || type === undefined)) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}
