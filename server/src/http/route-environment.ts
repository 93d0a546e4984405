import type { ServerLimits } from '@concord/shared';
import type { OverrideEnvironment } from '../merge/apply-override';
import type { PushEnvironment } from '../merge/apply-push';
import type { RegistrationEnvironment } from '../replicas/register-replica';
import type { Store } from '../storage/store';
import type { SchemaVersions } from '../versions/schema-versions';

/** What the replication routes share: the store, the schema and its resolvers, injected time and ids, and the limits. */
export interface RouteEnvironment extends PushEnvironment, OverrideEnvironment, RegistrationEnvironment {
  store: Store;
  /** The schema versions served: the current one and the older ones still accepted. */
  versions: SchemaVersions;
  /** What this server accepts; announced at registration and in `/v1/health`. */
  limits: ServerLimits;
  defaultPullChanges: number;
  /** A pull page stops adding rows once their stored data reaches this many bytes (whole transactions, at least one row). */
  maxPullBytes: number;
}
