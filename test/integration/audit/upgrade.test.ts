import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import Database from 'better-sqlite3';
import { auditRows, coffer, withDatabase, type AuditRow } from '../../helpers/audit.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * A data dir from before audit.db: its audit rows sit in coffer.db's audit_events table. Opening it moves them
 * into audit.db once (copy, then delete), also after a crash between the two, and the chain still verifies.
 */
const COLUMNS = ['sequence', 'event_id', 'account_id', 'event_time', 'event_name', 'event_source', 'read_only', 'access_key_id', 'username', 'resource_names', 'body', 'prev_hash', 'hash'];

function insertInto(db: Database.Database, rows: AuditRow[]): void {
  const insert = db.prepare(`INSERT INTO audit_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((column) => `@${column}`).join(', ')})`);
  db.transaction(() => rows.forEach((row) => insert.run(row)))();
}

function legacyRows(dataDir: string): number {
  return withDatabase(dataDir, (db) => db.prepare('SELECT count(*) FROM audit_events').pluck().get() as number);
}

/** An audit.db as a crashed or older move left it: the audit table (its schema spelled out) holding `rows`. */
function writeAuditDatabase(dataDir: string, rows: AuditRow[]): void {
  const audit = new Database(join(dataDir, 'audit.db'));
  audit.exec(`CREATE TABLE audit_events (sequence INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, event_time INTEGER NOT NULL,
    event_name TEXT NOT NULL, event_source TEXT NOT NULL, read_only INTEGER NOT NULL, access_key_id TEXT NOT NULL, username TEXT NOT NULL,
    resource_names TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`);
  insertInto(audit, rows);
  audit.close();
}

function removeAuditDatabase(dataDir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `audit.db${suffix}`), { force: true });
}

describe('upgrading a data dir whose coffer.db holds the audit log', () => {
  let server: TestServer;
  let rows: AuditRow[];

  before(async () => {
    server = await startTestServer();
    const sm = secretsClient(server);
    const name = uniqueSecretName('upgrade');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    for (let index = 0; index < 4; index++) await sm.send(new GetSecretValueCommand({ SecretId: name }));
    await server.stop();
    rows = auditRows(server.dataDir);
    assert.equal(rows.length, 5);
  });
  after(async () => {
    await server?.cleanup();
  });

  /** The pre-change layout: the rows in coffer.db (old schema, migration 4), no audit.db. */
  function makeLegacyLayout(): void {
    removeAuditDatabase(server.dataDir);
    withDatabase(server.dataDir, (db) => {
      db.prepare('DELETE FROM audit_events').run();
      insertInto(db, rows);
    });
  }

  it('moves the rows into audit.db on open; verify finds the chain intact', async () => {
    makeLegacyLayout();
    assert.ok(!existsSync(join(server.dataDir, 'audit.db')));
    const verify = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.split('\n')[0], '5 events, chain intact');
    assert.deepEqual(auditRows(server.dataDir), rows);
    assert.equal(legacyRows(server.dataDir), 0);
  });

  it('a re-run after a crash between copy and delete neither duplicates nor loses a row', async () => {
    makeLegacyLayout();
    // The crash: the copy into audit.db was committed, the delete from coffer.db was not.
    writeAuditDatabase(server.dataDir, rows.slice(0, 3));

    const verify = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.split('\n')[0], '5 events, chain intact');
    assert.deepEqual(auditRows(server.dataDir), rows);
    assert.equal(legacyRows(server.dataDir), 0);
  });

  it('refuses to move, and deletes nothing, when audit.db holds a different event at the same place', async () => {
    makeLegacyLayout();
    writeAuditDatabase(server.dataDir, [{ ...rows[1]!, sequence: 1 }]);

    const verify = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 2);
    assert.match(verify.stderr, /audit\.db holds a different event at sequence 1 than coffer\.db/);
    assert.equal(legacyRows(server.dataDir), 5);
  });

  it('a server started on the upgraded data dir extends the same chain', async () => {
    makeLegacyLayout();
    const restarted = await startTestServer({ dataDir: server.dataDir });
    try {
      await secretsClient(restarted).send(new CreateSecretCommand({ Name: uniqueSecretName('after-upgrade'), SecretString: 'v' }));
    } finally {
      await restarted.stop();
    }
    const verify = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.split('\n')[0], '6 events, chain intact');
    assert.deepEqual(auditRows(server.dataDir).slice(0, 5), rows);
    assert.equal(legacyRows(server.dataDir), 0);
  });
});
