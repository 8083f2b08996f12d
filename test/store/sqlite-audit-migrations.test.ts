import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { AuditEventDraft } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

/**
 * audit.db has migrations of its own (store/sqlite/audit-migrations.ts), recorded in its `audit_migrations`
 * table: whoever opens audit.db first applies them, and an audit.db written before they existed is adopted as it is.
 */
const sealed = (prevHash: string, body: string) => createHash('sha256').update(prevHash + body).digest('hex');

function draft(): AuditEventDraft {
  const eventId = randomUUID();
  return {
    eventId, accountId: '111111111111', eventTime: new Date(1_700_000_000_000), eventName: 'GetSecretValue', eventSource: 'secretsmanager.amazonaws.com',
    readOnly: true, accessKeyId: 'AKIA1', username: 'root', resourceNames: [], body: JSON.stringify({ eventID: eventId }),
  };
}

function appliedAuditMigrations(auditPath: string): Array<{ id: number; name: string }> {
  const db = new Database(auditPath, { readonly: true });
  try {
    return db.prepare('SELECT id, name FROM audit_migrations ORDER BY id').all() as Array<{ id: number; name: string }>;
  } finally {
    db.close();
  }
}

/** The audit.db an older Coffer wrote: the table and indexes as it created them, one sealed event, no migration records. */
function writeUnmigratedAuditDatabase(path: string): { eventId: string; hash: string } {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS audit_events (
      sequence INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, event_time INTEGER NOT NULL,
      event_name TEXT NOT NULL, event_source TEXT NOT NULL, read_only INTEGER NOT NULL, access_key_id TEXT NOT NULL,
      username TEXT NOT NULL, resource_names TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_events_by_account ON audit_events (account_id, sequence);
    CREATE INDEX IF NOT EXISTS audit_events_by_time ON audit_events (event_time);
  `);
  const eventId = randomUUID();
  const body = JSON.stringify({ eventID: eventId });
  const hash = sealed('0'.repeat(64), body);
  db.prepare('INSERT INTO audit_events VALUES (1, ?, ?, 0, ?, ?, 1, ?, ?, ?, ?, ?, ?)').run(eventId, '111111111111', 'Decrypt', 'kms.amazonaws.com', 'AKIA1', 'root', '[]', body, '0'.repeat(64), hash);
  db.close();
  return { eventId, hash };
}

describe('SQLite audit log migrations (audit.db)', () => {
  it("a new data dir records audit.db's migrations in audit.db, apart from coffer.db, once for every opener", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-migrations-'));
    const store = new SqliteStore(join(dir, 'coffer.db'));
    const reader = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      assert.equal((await store.appendAuditEvent(draft())).sequence, 1);
      assert.equal((await reader.listAuditEvents(0, 10)).length, 1);
      assert.deepEqual(appliedAuditMigrations(join(dir, 'audit.db')), [{ id: 1, name: 'audit-log' }, { id: 2, name: 'audit-events-by-name' }, { id: 3, name: 'audit-compact-rows' }, { id: 4, name: 'audit-body-templates' }]);
      const main = new Database(join(dir, 'coffer.db'), { readonly: true });
      assert.equal(main.prepare("SELECT 1 FROM sqlite_master WHERE name = 'audit_migrations'").get(), undefined);
      main.close();
    } finally {
      store.close();
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adopts an audit.db written before it had migrations: its events stay and the chain goes on from them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-migrations-'));
    const old = writeUnmigratedAuditDatabase(join(dir, 'audit.db'));
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      const appended = await store.appendAuditEvent(draft());
      assert.deepEqual(appliedAuditMigrations(join(dir, 'audit.db')), [{ id: 1, name: 'audit-log' }, { id: 2, name: 'audit-events-by-name' }, { id: 3, name: 'audit-compact-rows' }, { id: 4, name: 'audit-body-templates' }]);
      assert.equal(appended.sequence, 2);
      assert.equal(appended.prevHash, old.hash);
      assert.deepEqual((await store.listAuditEvents(0, 10)).map((event) => event.eventId), [old.eventId, appended.eventId]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
