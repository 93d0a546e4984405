/** @module @concord/shared — schema, wire protocol, resolver contract and error codes shared by client and server. */
export * from './schema/define-schema';
export * from './schema/check-value';
export * from './schema/check-row';
export * from './schema/row-values';
export * from './protocol/version';
export * from './protocol/row-values';
export * from './protocol/from-replica';
export * from './protocol/from-server';
export * from './protocol/conflict-entry';
export * from './resolver';
export * from './errors';
