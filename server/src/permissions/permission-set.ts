import { tableOf, type FromReplicaChange, type RowValues, type Schema } from '@concord/shared';
import type { Identity } from '../auth/identity';
import type { StoredRow } from '../storage/store';
import type { PermissionConfig, TablePermissions } from './permission-config';

const ACTIONS = ['insert', 'update', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** Says why an uploaded change may not be applied, or `undefined` when it may. */
export type PermissionCheck = (
  change: FromReplicaChange,
  stored: StoredRow | undefined,
  identity: Identity | undefined,
) => string | undefined;

/**
 * The permission check of a configuration, checked against the schema at startup: unknown
 * tables and actions, and values that are neither booleans nor predicates, are errors. A
 * predicate that throws refuses the change: a permission never opens by accident.
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
  return (change, stored, identity) => {
    const entry = tables.get(change.table);
    if (!entry) return undefined;
    const live = stored && !stored.deleted ? stored.values : null;
    const action: Action = change.op === 'delete' ? 'delete' : live ? 'update' : 'insert';
    const permission = entry[action];
    if (permission === undefined || permission === true) return undefined;
    const row: RowValues =
      action === 'delete' ? (live ?? {}) : { ...(change.replace ? {} : live), ...(change.values ?? {}) };
    let allowed = false;
    try {
      allowed = permission !== false && permission({ identity, row, stored: live }) === true;
    } catch {
      allowed = false;
    }
    if (allowed) return undefined;
    const who = identity ? `"${identity.subject}"` : 'this replica';
    return `${who} may not ${action} rows of "${change.table}"`;
  };
}
