import type { RowValues } from '@concord/shared';
import type { Identity } from '../auth/identity';

/** What a permission predicate is shown of an uploaded change. */
export interface PermissionRequest {
  /** The verified identity uploading; `undefined` on a server without `auth`. */
  identity: Identity | undefined;
  /** The row as the change would leave it (for a delete: as it stands). */
  row: RowValues;
  /** The row as it stands before the change; null for an insert. */
  stored: RowValues | null;
}

/** Allowed always (`true`), never (`false`), or when the predicate says so. */
export type Permission = boolean | ((request: PermissionRequest) => boolean);

/** Who may insert, update and delete a table's rows; an action left out is allowed. */
export interface TablePermissions {
  insert?: Permission;
  update?: Permission;
  delete?: Permission;
}

/** Permissions by table name; a table left out may be written by anyone who may sync. */
export type PermissionConfig = Readonly<Record<string, TablePermissions>>;
