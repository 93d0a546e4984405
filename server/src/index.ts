/** @module @concord/server — the Hono sync server, its merge engine, resolvers and stores. */
export { createSyncServer, type CorsOptions, type SyncServerOptions } from './create-sync-server';
export type { ReplicaRegistration } from './replicas/register-replica';
export type { AuthOptions, AsymmetricAlgorithm, SymmetricAlgorithm, VerifiedIdentity } from './auth/auth-options';
export type { Identity } from './auth/identity';
export type {
  Permission,
  PermissionConfig,
  PermissionRequest,
  TablePermissions,
} from './permissions/permission-config';
export type { ClaimFilter, ParentFilter, PartitionConfig, TableFilter } from './partitions/partition-config';
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite/sqlite-store';
export { createPostgresStore, type PostgresStoreOptions } from './storage/postgres/postgres-store';
export {
  createMemoryDatabase,
  createMemoryStore,
  type MemoryDatabase,
  type MemoryStoreOptions,
} from './storage/memory/memory-store';
export type * from './storage/store';
export { purgeExpired, type PurgeSettings, type PurgeTotals } from './retention/purge-expired';
export type { RetentionOptions } from './retention/retention-options';
export {
  describeCheck,
  validateReplicas,
  type ReplicaCheck,
  type ReplicaHealth,
  type StoreValidation,
  type ValidateReplicasSettings,
} from './validation/validate-replicas';
export { priority } from './resolvers/priority';
export { serverWins } from './resolvers/server-wins';
export { clientWins } from './resolvers/client-wins';
export { laterWins } from './resolvers/later-wins';
export { earlierWins } from './resolvers/earlier-wins';
export { maximum } from './resolvers/maximum';
export { minimum } from './resolvers/minimum';
export { priorityColumn } from './resolvers/priority-column';
export { additive } from './resolvers/additive';
export { average } from './resolvers/average';
export { mergeText, type MergeTextOptions } from './resolvers/merge-text';
export { manual } from './resolvers/manual';
export type { ResolverConfig, TableResolverConfig } from './resolvers/resolver-set';
export type { DeleteRule } from './resolvers/deletes';
