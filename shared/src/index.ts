/** @module @concord/shared — schema, wire protocol, resolver contract and error codes shared by client and server. */
export * from './schema/define-schema';
export * from './schema/check-value';
export * from './schema/check-row';
export * from './schema/row-values';
export * from './protocol/messages';
export * from './resolver';
export * from './errors';
