import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { timeOrderedEventId } from '../../src/audit/event.js';
import type { AuditEventDraft } from '../../src/store/index.js';
import { auditMigrations } from '../../src/store/sqlite/audit-migrations.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { applyMigrations } from '../../src/store/sqlite/migration-runner.js';

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

/**
 * An audit.db at migration 4 (before event ids were found by time) holding three sealed events whose ids are stored
 * the three ways an older Coffer left them: a UUID v7's 16 bytes (its first 48 bits the event time), a random UUID's
 * 16 bytes, and a text.
 */
function writeMigration4AuditDatabase(path: string): Array<{ eventId: string; eventTime: number; hash: string }> {
  const db = new Database(path);
  applyMigrations(db, auditMigrations.slice(0, 4), 'audit_migrations');
  const time = 1_700_000_000_000;
  const v7 = timeOrderedEventId(new Date(time));
  const random = randomUUID();
  const events = [
    { eventId: v7, eventTime: time, stored: Buffer.from(v7.replaceAll('-', ''), 'hex') as Buffer | string },
    { eventId: random, eventTime: time + 1, stored: Buffer.from(random.replaceAll('-', ''), 'hex') },
    { eventId: 'imported-event-3', eventTime: time + 2, stored: 'imported-event-3' },
  ];
  let prevHash = '0'.repeat(64);
  const insert = db.prepare('INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)');
  const written = events.map((event, index) => {
    const body = JSON.stringify({ eventID: event.eventId });
    const hash = sealed(prevHash, body);
    insert.run(index + 1, event.stored, '111111111111', event.eventTime, 'Decrypt', 'kms.amazonaws.com', 'AKIA1', 'root', '[]', body, Buffer.from(prevHash, 'hex'), Buffer.from(hash, 'hex'));
    prevHash = hash;
    return { eventId: event.eventId, eventTime: event.eventTime, hash };
  });
  db.close();
  return written;
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
      assert.deepEqual(appliedAuditMigrations(join(dir, 'audit.db')), [{ id: 1, name: 'audit-log' }, { id: 2, name: 'audit-events-by-name' }, { id: 3, name: 'audit-compact-rows' }, { id: 4, name: 'audit-body-templates' }, { id: 5, name: 'audit-event-ids-by-time' }]);
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
      assert.deepEqual(appliedAuditMigrations(join(dir, 'audit.db')), [{ id: 1, name: 'audit-log' }, { id: 2, name: 'audit-events-by-name' }, { id: 3, name: 'audit-compact-rows' }, { id: 4, name: 'audit-body-templates' }, { id: 5, name: 'audit-event-ids-by-time' }]);
      assert.equal(appended.sequence, 2);
      assert.equal(appended.prevHash, old.hash);
      assert.deepEqual((await store.listAuditEvents(0, 10)).map((event) => event.eventId), [old.eventId, appended.eventId]);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migration 5: ids are found by the time they carry or as text, old rows read and chain as before, ids stay unique', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-audit-migrations-'));
    const old = writeMigration4AuditDatabase(join(dir, 'audit.db'));
    const store = new SqliteStore(join(dir, 'coffer.db'));
    try {
      store.migrate();
      const byId = async (eventId: string) =>
        (await store.lookupAuditEvents({ accountId: '111111111111', attribute: { key: 'EventId', value: eventId }, limit: 5 })).map((event) => event.sequence);
      for (const [index, event] of old.entries()) assert.deepEqual(await byId(event.eventId), [index + 1], event.eventId);
      const appended = await store.appendAuditEvent({ ...draft(), eventId: timeOrderedEventId(new Date(1_700_000_000_500)), eventTime: new Date(1_700_000_000_500) });
      assert.equal(appended.prevHash, old[2]!.hash);
      assert.deepEqual(await byId(appended.eventId), [4]);
      assert.deepEqual(await byId(randomUUID()), []);

      // Every event reads back with its hash, and each hash seals the one before.
      const listed = await store.listAuditEvents(0, 10);
      assert.deepEqual(listed.map((event) => event.eventId), [...old.map((event) => event.eventId), appended.eventId]);
      let prevHash = '0'.repeat(64);
      for (const event of listed) {
        assert.equal(event.prevHash, prevHash);
        assert.equal(event.hash, sealed(prevHash, event.body));
        prevHash = event.hash;
      }
      const window = await store.lookupAuditEvents({ accountId: undefined, startTime: new Date(old[1]!.eventTime), endTime: new Date(old[2]!.eventTime), limit: 10 });
      assert.deepEqual(window.map((event) => event.sequence), [3, 2]);

      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      const stored = db.prepare('SELECT typeof(event_id) AS type, event_id AS id FROM audit_events ORDER BY sequence').all() as Array<{ type: string; id: unknown }>;
      assert.deepEqual(stored.map((row) => row.type), ['blob', 'text', 'text', 'blob']);
      assert.equal(stored[1]!.id, old[1]!.eventId);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' ORDER BY name").pluck().all();
      assert.deepEqual(indexes, ['audit_events_by_account', 'audit_events_by_name', 'audit_events_by_text_id', 'audit_events_by_time']);
      db.close();

      // Still one event per id: a second append of an id the log holds, in either form, is refused.
      await assert.rejects(store.appendAuditEvent({ ...draft(), eventId: appended.eventId, eventTime: new Date(1_700_000_000_500) }), /UNIQUE/);
      await assert.rejects(store.appendAuditEvent({ ...draft(), eventId: old[1]!.eventId }), /UNIQUE/);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
