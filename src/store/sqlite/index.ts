/**
 * The SQLite backend: `SqliteStore` implements every repository of ../store.ts on one database file (coffer.db)
 * with the audit log in its own file (audit.db) and its one writer thread. Only the composition root
 * (server/) and tests import this entry: every other module sees the repository interfaces (store/index.ts).
 */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { AuditWriterThread, type AuditAppender, type AuditDraftRow, type AuditSeal, type AuditWriterAnchoring } from './audit-writer.js';
export { SqliteTransfer } from './transfer.js';
