import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { encodeAuditBody } from '../../../src/store/audit-codec.js';
import { auditRows, coffer, withAuditDatabase } from '../../helpers/audit.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer audit verify` against a stopped server's data dir: intact after real calls, and naming the event
 * when a test changes one byte of it, deletes one or swaps two, with its own SQLite connection.
 */
describe('coffer audit verify and list', () => {
  let server: TestServer;
  let rows: ReturnType<typeof auditRows>;

  before(async () => {
    server = await startTestServer();
    const sm = secretsClient(server);
    const name = uniqueSecretName('tamper');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    for (let index = 0; index < 3; index++) await sm.send(new GetSecretValueCommand({ SecretId: name }));
    await sm.send(new DescribeSecretCommand({ SecretId: name }));
    await sm.send(new ListSecretsCommand({}));
    await server.stop();
    rows = auditRows(server.dataDir);
  });
  after(async () => {
    await server?.cleanup();
  });

  /** Applies a change, runs verify, and undoes the change (restoring the rows as they were). */
  async function verifyAfter(change: (db: import('better-sqlite3').Database) => void) {
    withAuditDatabase(server.dataDir, change);
    try {
      return await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    } finally {
      withAuditDatabase(server.dataDir, (db) => {
        db.prepare('DELETE FROM audit_events').run();
        const insert = db.prepare(
          'INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username, resource_names, body, prev_hash, hash) VALUES (@sequence, @event_id, @account_id, @event_time, @event_name, @event_source, @read_only, @access_key_id, @username, @resource_names, @body, @prev_hash, @hash)',
        );
        for (const row of rows) insert.run(row);
      });
    }
  }

  it('reports an intact chain: "N events, chain intact", exit 0', async () => {
    assert.equal(rows.length, 6);
    const result = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.split('\n')[0], '6 events, chain intact');
  });

  it('names the event whose compressed stored body was changed: a flipped byte, a stream cut short (issue 21)', async () => {
    // First of the changes: each restore writes the rows back as text (the old encoding, still read).
    // A body stored compressed, as coffer migrate and coffer restore write it (appends keep the text): it verifies.
    const target = rows[2]!;
    const body = encodeAuditBody(target.body);
    const untouched = await verifyAfter((db) => db.prepare('UPDATE audit_events SET body = ? WHERE sequence = ?').run(body, target.sequence));
    assert.equal(untouched.code, 0, untouched.stderr);
    // Bytes of the DEFLATE stream, and a stream cut short. (The last byte's spare padding bits carry nothing of the
    // event: flipping one of those leaves the same event, which the chain rightly still accepts.)
    const flip = (at: number) => {
      const flipped = Buffer.from(body);
      flipped[at]! ^= 0x20;
      return flipped;
    };
    for (const changed of [flip(1), flip(Math.floor(body.length / 2)), body.subarray(0, body.length - 8)]) {
      const result = await verifyAfter((db) => db.prepare('UPDATE audit_events SET body = ? WHERE sequence = ?').run(changed, target.sequence));
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, new RegExp(`broken at event ${target.sequence} \\(${target.event_id}\\)`));
    }
  });

  it('names the event one byte of which was flipped', async () => {
    const target = rows[3]!;
    const at = target.body.indexOf('GetSecretValue');
    const flipped = target.body.slice(0, at) + 'X' + target.body.slice(at + 1);
    const result = await verifyAfter((db) => db.prepare('UPDATE audit_events SET body = ? WHERE sequence = ?').run(flipped, target.sequence));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`broken at event ${target.sequence} \\(${target.event_id}\\)`));
  });

  it('names a changed lookup column even when the body is untouched', async () => {
    const result = await verifyAfter((db) => db.prepare("UPDATE audit_events SET event_name = 'ListSecrets' WHERE sequence = 2").run());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken at event 2 /);
  });

  it('detects a deleted event', async () => {
    const result = await verifyAfter((db) => db.prepare('DELETE FROM audit_events WHERE sequence = 4').run());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken at event 4: event 4 is missing/);
  });

  it('detects a deleted event whose successors were renumbered', async () => {
    const result = await verifyAfter((db) => {
      db.prepare('DELETE FROM audit_events WHERE sequence = 4').run();
      db.prepare('UPDATE audit_events SET sequence = sequence - 1 WHERE sequence > 4').run();
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken at event 4 /);
  });

  it('detects two events swapped', async () => {
    const result = await verifyAfter((db) => {
      db.prepare('UPDATE audit_events SET sequence = -5 WHERE sequence = 5').run();
      db.prepare('UPDATE audit_events SET sequence = 5 WHERE sequence = 6').run();
      db.prepare('UPDATE audit_events SET sequence = 6 WHERE sequence = -5').run();
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /broken at event 5 /);
  });

  it('coffer audit list prints events newest first, filtered by --event-name and --limit', async () => {
    const result = await coffer(['audit', 'list', '--data-dir', server.dataDir, '--event-name', 'GetSecretValue', '--limit', '2']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { eventName: string; eventID: string });
    assert.equal(events.length, 2);
    assert.ok(events.every((event) => event.eventName === 'GetSecretValue'));
    const getRows = rows.filter((row) => row.event_name === 'GetSecretValue');
    assert.deepEqual(events.map((event) => event.eventID), [getRows[2]!.event_id, getRows[1]!.event_id]);
  });

  it('refuses a directory without a database (exit 2)', async () => {
    const result = await coffer(['audit', 'verify', '--data-dir', `${server.dataDir}/nowhere`]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no Coffer database/);
  });
});
