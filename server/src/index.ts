/** @module @concord/server — the Hono sync server, its merge engine, resolvers and stores. */
export { createSyncServer, type SyncServerOptions } from './create-sync-server';
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite-store';
export type * from './storage/store';
export { priority } from './resolvers/priority';
export type { ResolverConfig } from './resolvers/resolver-set';
export { mergeChange, type MergeContext, type MergeOutcome } from './merge/merge-change';
