/**
 * @module store
 * The Store interface and its backends. Everything database-specific stays below this directory:
 * callers see domain records and atomic, intent-level methods. Imports only core.
 */
export type { Store } from './store.js';
export * from './records.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
