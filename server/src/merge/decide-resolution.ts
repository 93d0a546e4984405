import {
  columnTypeOf,
  describeValue,
  fitsColumn,
  type ConflictInput,
  type Resolution,
  type Resolver,
  type TableDef,
} from '@concord/shared';

/**
 * Asks a resolver and checks what it answers. A resolver that throws, answers nonsense, or
 * merges values the schema does not allow never reaches the store: its answer becomes a
 * rejection with the reason, and the server version stands.
 */
export function decideResolution(
  resolver: Resolver,
  input: ConflictInput,
  table: TableDef,
  allowed: readonly string[],
): Resolution {
  let resolution: Resolution;
  try {
    resolution = resolver.resolve(input);
  } catch (error) {
    return reject(resolver, `threw: ${error instanceof Error ? error.message : String(error)}`);
  }
  switch (resolution?.kind) {
    case 'server':
    case 'client':
    case 'reject':
      return resolution;
    case 'merge':
      return checkMerge(resolver, resolution.values, table, allowed) ?? resolution;
    default:
      return reject(resolver, `returned an unknown resolution ${describeValue(resolution)}`);
  }
}

function checkMerge(
  resolver: Resolver,
  values: unknown,
  table: TableDef,
  allowed: readonly string[],
): Resolution | undefined {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return reject(resolver, 'merged values are not an object');
  }
  for (const [column, value] of Object.entries(values)) {
    if (!allowed.includes(column)) return reject(resolver, `merged column "${column}" is not one it may decide`);
    const type = columnTypeOf(table, column);
    if (!type || !fitsColumn(type, value)) {
      return reject(resolver, `merged value ${describeValue(value)} does not fit column "${column}"`);
    }
  }
  return undefined;
}

function reject(resolver: Resolver, why: string): Resolution {
  return { kind: 'reject', reason: `resolver "${resolver.name}" ${why}` };
}
