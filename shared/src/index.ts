/** @module @concord/shared — schema, wire protocol, resolver contract and error codes shared by client and server. */
export {
  columnTypeOf,
  currentName,
  defineSchema,
  tableOf,
  type ColumnType,
  type Direction,
  type Migration,
  type MigrationInput,
  type Schema,
  type SchemaInput,
  type TableDef,
  type TableInput,
  type Tracking,
} from './schema/define-schema';
export { MAX_JSON_DEPTH, fitsColumn } from './schema/value-problem';
export * from './schema/values-issue';
export * from './schema/check-values';
export * from './schema/check-row';
export * from './schema/rowguid-problem';
export * from './schema/describe-name';
export * from './schema/describe-value';
export { isStorableName, toWellFormed } from './schema/well-formed';
export * from './schema/same-value';
export * from './schema/pick-columns';
export * from './schema/migrate-values';
export * from './protocol/version';
export * from './schema/row-values';
export * from './protocol/from-replica';
export * from './protocol/from-server';
export { conflictEntry, type ConflictEntry, type ConflictStatus, type ConflictType } from './protocol/conflict-entry';
export * from './resolver';
export * from './errors';
export * from './validation/row-hash';
