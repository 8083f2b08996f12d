import type { Database } from 'better-sqlite3';
import { applyMigrations, type Migration } from './migration-runner.js';

/**
 * The audit log's one table definition. audit.db applies it as its migration 1; coffer.db's migration 4
 * (where Coffer kept the log before audit.db, and where an in-memory store keeps it) is the same text.
 * Never edit it: change the audit log's schema with a new entry in `auditMigrations`.
 * IF NOT EXISTS because audit.db files written before audit.db had migrations hold this table already.
 */
export const AUDIT_LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS audit_events (
    sequence INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL,
    event_time INTEGER NOT NULL,
    event_name TEXT NOT NULL,
    event_source TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    access_key_id TEXT NOT NULL,
    username TEXT NOT NULL,
    resource_names TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_events_by_account ON audit_events (account_id, sequence);
  CREATE INDEX IF NOT EXISTS audit_events_by_time ON audit_events (event_time);
`;

/** The audit log's migrations, recorded in its own table `audit_migrations` (apart from coffer.db's). */
export const auditMigrations: readonly Migration[] = [
  { id: 1, name: 'audit-log', sql: AUDIT_LOG_SCHEMA },
  {
    id: 2,
    name: 'audit-events-by-name',
    // KMS's GetKeyLastUsage asks for the newest successful event of a few operations on one key: per operation,
    // a walk back through that operation's events (store lastSuccessfulAuditEvent), not through the whole log.
    sql: 'CREATE INDEX IF NOT EXISTS audit_events_by_name ON audit_events (event_name, sequence);',
  },
];

/** Brings a database holding the audit log (audit.db, or an in-memory store's one database) up to date. */
export function migrateAuditLog(db: Database): void {
  applyMigrations(db, auditMigrations, 'audit_migrations');
}
