/**
 * @module store
 * The Store interface and its backends. Everything database-specific stays below this directory:
 * callers see domain records and atomic, intent-level methods. Imports only core.
 */
export type { Store } from './store.js';
export * from './records.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
export { GENESIS_HASH, chainHash } from './audit-hash.js';
export { AuditWriterThread, type AuditAppender, type AuditDraftRow, type AuditSeal, type AuditWriterAnchoring } from './sqlite/audit-writer.js';
export * from './audit-anchor.js';
