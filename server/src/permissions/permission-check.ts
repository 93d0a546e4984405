import { tableOf, type Schema } from '@concord/shared';
import type { Identity } from '../auth/identity';
import type { StoredRow } from '../storage/store';
import type { PermissionConfig, TablePermissions } from './permission-config';

const ACTIONS = ['insert', 'update', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** A row as a write would leave it. */
export type RowWriteValues = Pick<StoredRow, 'values' | 'deleted'>;

/**
 * Says why `identity` may not make a write (insert, update or delete), or `undefined` when it
 * may. `written` is the row as the write leaves it, after merging and resolving: what a
 * predicate allows is what is stored.
 */
export type PermissionCheck = (
  table: string,
  stored: StoredRow | undefined,
  written: RowWriteValues,
  identity: Identity | undefined,
) => string | undefined;

/**
 * The permission check of a configuration, checked against the schema at startup: unknown
 * tables and actions, and values that are neither booleans nor predicates, are errors. A
 * predicate that throws refuses the write: a permission never opens by accident.
 */
export function createPermissionCheck(schema: Schema, config: PermissionConfig = {}): PermissionCheck {
  const tables = new Map<string, TablePermissions>();
  for (const [name, entry] of Object.entries(config)) {
    if (!tableOf(schema, name)) throw new Error(`permissions: unknown table "${name}"`);
    for (const [action, permission] of Object.entries(entry)) {
      if (!(ACTIONS as readonly string[]).includes(action)) {
        throw new Error(`permissions.${name}: unknown action "${action}"; use ${ACTIONS.join(', ')}`);
      }
      if (typeof permission !== 'boolean' && typeof permission !== 'function') {
        throw new Error(`permissions.${name}.${action} must be true, false or a function`);
      }
    }
    tables.set(name, entry);
  }
  return (table, stored, written, identity) => {
    const entry = tables.get(table);
    if (!entry) return undefined;
    const live = stored && !stored.deleted ? stored.values : null;
    // Deleting what is not there changes no row anyone sees: nothing to permit.
    if (written.deleted && !live) return undefined;
    // A write onto a tombstone brings the row back: an insert.
    const action: Action = written.deleted ? 'delete' : live ? 'update' : 'insert';
    const permission = entry[action];
    if (permission === undefined || permission === true) return undefined;
    const refused = `${identity ? `"${identity.subject}"` : 'the caller'} may not ${action} rows of "${table}"`;
    if (permission === false) return refused;
    // The predicate sees the values frozen: what it allows is exactly what is stored.
    const row = deepFreeze(written.deleted ? live! : written.values);
    try {
      return permission({ identity, row, stored: live && deepFreeze(live) }) === true ? undefined : refused;
    } catch (error) {
      return `${refused}: the permission check failed (${error instanceof Error ? error.message : String(error)})`;
    }
  };
}

/** Freezes row values in place, nested ones too: they are never changed once written, by anyone. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
