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
  {
    id: 3,
    name: 'audit-compact-rows',
    // The compact encoding (store/audit-codec.ts, sqlite/audit-rows.ts): the text columns are declared without
    // a type (no affinity), so a column keeps what is written: TEXT in rows of the old encoding, the id of a
    // name in audit_names (INTEGER), a 16-byte event id, a compressed body, 32-byte hashes (BLOB) in new rows.
    // SQLite cannot change a column's affinity in place: the table is rebuilt, old rows copied as they are.
    sql: `
      CREATE TABLE audit_names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE audit_events_compact (
        sequence INTEGER PRIMARY KEY,
        event_id NOT NULL UNIQUE,
        account_id NOT NULL,
        event_time INTEGER NOT NULL,
        event_name NOT NULL,
        event_source NOT NULL,
        read_only INTEGER NOT NULL,
        access_key_id NOT NULL,
        username NOT NULL,
        resource_names NOT NULL,
        body NOT NULL,
        prev_hash NOT NULL,
        hash NOT NULL
      );
      INSERT INTO audit_events_compact SELECT sequence, event_id, account_id, event_time, event_name, event_source, read_only,
        access_key_id, username, resource_names, body, prev_hash, hash FROM audit_events ORDER BY sequence;
      DROP TABLE audit_events;
      ALTER TABLE audit_events_compact RENAME TO audit_events;
      CREATE INDEX audit_events_by_account ON audit_events (account_id, sequence);
      CREATE INDEX audit_events_by_time ON audit_events (event_time);
      CREATE INDEX audit_events_by_name ON audit_events (event_name, sequence);
    `,
  },
  {
    id: 4,
    name: 'audit-body-templates',
    // Body templates (store/audit-codec.ts, codec 2): an appended body is the id of its template here and the values
    // of its holes. Found by the SHA-256 of the text (an index on the text itself would hold every template twice).
    // Derived data, like audit_names: a copy carries the bodies' canonical text and the target makes its own.
    sql: 'CREATE TABLE audit_templates (id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, template TEXT NOT NULL);',
  },
  {
    id: 5,
    name: 'audit-event-ids-by-time',
    // One index fewer per append: Coffer's event ids carry their event's time in their first 48 bits (a UUID v7),
    // so the time index, as (event_time, event_id), finds them and keeps them unique; the event id's own UNIQUE
    // index goes. An id that does not carry its time (an older Coffer's random UUID, an imported text) is stored as
    // its text, found and kept unique by a partial index of text ids. The table is rebuilt to drop the UNIQUE
    // constraint; rows are copied as they are, but an id of 16 bytes whose first 6 are not its event time, which
    // becomes its lowercase UUID text (the same id when read).
    sql: `
      CREATE TABLE audit_events_by_time_ids (
        sequence INTEGER PRIMARY KEY,
        event_id NOT NULL,
        account_id NOT NULL,
        event_time INTEGER NOT NULL,
        event_name NOT NULL,
        event_source NOT NULL,
        read_only INTEGER NOT NULL,
        access_key_id NOT NULL,
        username NOT NULL,
        resource_names NOT NULL,
        body NOT NULL,
        prev_hash NOT NULL,
        hash NOT NULL
      );
      INSERT INTO audit_events_by_time_ids SELECT sequence,
        CASE
          WHEN typeof(event_id) <> 'blob' OR length(event_id) <> 16 THEN event_id
          WHEN event_time BETWEEN 0 AND 281474976710655 AND hex(substr(event_id, 1, 6)) = printf('%012X', event_time) THEN event_id
          ELSE lower(substr(hex(event_id), 1, 8) || '-' || substr(hex(event_id), 9, 4) || '-' || substr(hex(event_id), 13, 4) || '-'
            || substr(hex(event_id), 17, 4) || '-' || substr(hex(event_id), 21, 12))
        END,
        account_id, event_time, event_name, event_source, read_only, access_key_id, username, resource_names, body, prev_hash, hash
        FROM audit_events ORDER BY sequence;
      DROP TABLE audit_events;
      ALTER TABLE audit_events_by_time_ids RENAME TO audit_events;
      CREATE UNIQUE INDEX audit_events_by_time ON audit_events (event_time, event_id);
      CREATE UNIQUE INDEX audit_events_by_text_id ON audit_events (event_id) WHERE typeof(event_id) = 'text';
      CREATE INDEX audit_events_by_account ON audit_events (account_id, sequence);
      CREATE INDEX audit_events_by_name ON audit_events (event_name, sequence);
    `,
  },
];

/** Brings a database holding the audit log (audit.db, or an in-memory store's one database) up to date. */
export function migrateAuditLog(db: Database): void {
  applyMigrations(db, auditMigrations, 'audit_migrations');
}
