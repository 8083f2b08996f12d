import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createLogger } from '../../../src/core/index.js';
import { defaultAuditAnchorFile } from '../../../src/server/index.js';
import { anchorLine, chainHash, signAnchor } from '../../../src/store/index.js';
import { auditRows, coffer, withAuditDatabase, type AuditRow } from '../../helpers/audit.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Issue 13, part 5: the audit chain is anchored outside the data dir, signed under a key derived from the root
 * key, and `coffer audit verify` checks the log against its anchors: a deleted tail, a rewritten tail and a
 * forged anchor are all named; before anchors, verify said "chain intact" after the newest events were deleted.
 */
describe('audit chain anchors', () => {
  let server: TestServer;
  let anchorFile: string;
  let rows: AuditRow[];
  let anchorsText: string;
  const logLines: string[] = [];

  before(async () => {
    server = await startTestServer({
      auditAnchorIntervalMs: 100,
      logger: createLogger({ write: (line) => logLines.push(line) }),
    });
    anchorFile = defaultAuditAnchorFile(server.dataDir);
    const sm = secretsClient(server);
    const name = uniqueSecretName('anchored');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    for (let index = 0; index < 5; index++) await sm.send(new GetSecretValueCommand({ SecretId: name }));
    // Past an interval, so that the head is anchored (and logged) while the server runs, not only at shutdown.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await server.stop();
    rows = auditRows(server.dataDir);
    anchorsText = readFileSync(anchorFile, 'utf8');
  });
  after(async () => {
    await server?.cleanup();
  });

  const verify = (args: string[] = [], env: NodeJS.ProcessEnv = process.env) => coffer(['audit', 'verify', '--data-dir', server.dataDir, ...args], env);

  /** Applies a change to audit.db (or the anchor file), runs verify, and puts everything back as it was. */
  async function verifyAfter(change: (db: import('better-sqlite3').Database) => void) {
    withAuditDatabase(server.dataDir, change);
    try {
      return await verify();
    } finally {
      restore();
    }
  }

  function restore() {
    writeFileSync(anchorFile, anchorsText);
    withAuditDatabase(server.dataDir, (db) => {
      db.prepare('DELETE FROM audit_events').run();
      const insert = db.prepare(
        'INSERT INTO audit_events (sequence, event_id, account_id, event_time, event_name, event_source, read_only, access_key_id, username, resource_names, body, prev_hash, hash) VALUES (@sequence, @event_id, @account_id, @event_time, @event_name, @event_source, @read_only, @access_key_id, @username, @resource_names, @body, @prev_hash, @hash)',
      );
      for (const row of rows) insert.run(row);
    });
  }

  it('keeps the anchors beside the data dir, 0600, the last one the head written at shutdown', () => {
    assert.ok(!anchorFile.startsWith(`${server.dataDir}/`));
    assert.equal(statSync(anchorFile).mode & 0o777, 0o600);
    const anchors = anchorsText.trim().split('\n').map((line) => JSON.parse(line) as { sequence: number; hash: string; time: string; mac: string });
    const head = rows[rows.length - 1]!;
    assert.deepEqual({ sequence: anchors.at(-1)!.sequence, hash: anchors.at(-1)!.hash }, { sequence: head.sequence, hash: head.hash });
    // No key material in it: the anchor key is derived, never written, and the root key appears nowhere.
    const rootKey = readFileSync(`${server.dataDir}/root.key`, 'utf8').trim();
    assert.ok(!anchorsText.includes(rootKey));
  });

  it('anchors on its interval while the server runs, and logs each anchor too', async () => {
    const running = await startTestServer({ auditAnchorIntervalMs: 50 });
    try {
      await secretsClient(running).send(new CreateSecretCommand({ Name: uniqueSecretName('interval'), SecretString: 'v' }));
      const file = defaultAuditAnchorFile(running.dataDir);
      const deadline = Date.now() + 5000;
      while (!(existsSync(file) && readFileSync(file, 'utf8').includes('"sequence":1'))) {
        assert.ok(Date.now() < deadline, 'no anchor was written while the server ran');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await running.cleanup();
    }
    assert.ok(logLines.some((line) => line.includes('"message":"audit anchor"') && line.includes(`"hash":"${rows.at(-1)!.hash}"`)));
  });

  it('verifies an intact log against its anchors and prints the head', async () => {
    const result = await verify();
    assert.equal(result.code, 0, result.stderr);
    const head = rows.at(-1)!;
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines[0], `${rows.length} events, chain intact`);
    assert.match(lines[1]!, new RegExp(`^head: event ${head.sequence}, hash ${head.hash}, time \\d{4}-`));
    assert.match(lines[2]!, new RegExp(`^anchored: event ${head.sequence} at .*; 0 events after the newest anchor$`));
  });

  it('detects the newest events deleted (a truncated tail), which the chain alone cannot', async () => {
    const result = await verifyAfter((db) => db.prepare('DELETE FROM audit_events WHERE sequence > ?').run(rows.length - 3));
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`names an event the log no longer holds: the log ends at event ${rows.length - 3}, so events were deleted from its end`));
  });

  it('detects a tail rewritten into a valid chain (the anchored hash no longer matches)', async () => {
    const result = await verifyAfter((db) => {
      const last = rows.at(-1)!;
      const body = last.body.replace('GetSecretValue', 'ListSecrets');
      db.prepare("UPDATE audit_events SET body = ?, event_name = 'ListSecrets', hash = ? WHERE sequence = ?").run(body, chainHash(last.prev_hash, body), last.sequence);
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /does not match the stored event/);
  });

  it('refuses a forged anchor: one that names the truncated head but is not signed with the root key', async () => {
    const truncatedHead = rows[rows.length - 4]!;
    const forged = anchorLine(signAnchor(randomBytes(32), { sequence: truncatedHead.sequence, hash: truncatedHead.hash }, new Date()));
    const result = await verifyAfter((db) => {
      db.prepare('DELETE FROM audit_events WHERE sequence > ?').run(truncatedHead.sequence);
      // The forger rewrites the anchor file to hold only its own anchor.
      writeFileSync(anchorFile, `${forged}\n`);
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /invalid MAC/);
  });

  it('refuses to call the log complete when no anchor covers it (the anchor file removed)', async () => {
    renameSync(anchorFile, `${anchorFile}.moved`);
    try {
      const result = await verify();
      assert.equal(result.code, 1);
      assert.match(result.stderr, /no anchor in .* covers this log/);
      const moved = await verify(['--audit-anchor-file', `${anchorFile}.moved`]);
      assert.equal(moved.code, 0, moved.stderr);
    } finally {
      renameSync(`${anchorFile}.moved`, anchorFile);
    }
  });

  it('accepts the server log as the anchor file (the second copy)', async () => {
    const logCopy = `${anchorFile}.log`;
    writeFileSync(logCopy, `${logLines.join('\n')}\n`);
    appendFileSync(logCopy, 'coffer: SIGTERM received, finishing in-flight requests\n');
    try {
      const result = await verify(['--audit-anchor-file', logCopy]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /anchored: event \d+/);
    } finally {
      writeFileSync(logCopy, '');
    }
  });

  it('logs an error when a server starts on a log that lost events its newest anchor names', async () => {
    withAuditDatabase(server.dataDir, (db) => db.prepare('DELETE FROM audit_events WHERE sequence > ?').run(rows.length - 2));
    const lines: string[] = [];
    try {
      const restarted = await startTestServer({ dataDir: server.dataDir, logger: createLogger({ write: (line) => lines.push(line) }) });
      try {
        const deadline = Date.now() + 5000;
        while (!lines.some((line) => line.includes('"message":"audit anchor error"'))) {
          assert.ok(Date.now() < deadline, `no error was logged:\n${lines.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await restarted.stop();
      }
    } finally {
      restore();
    }
    assert.match(lines.join('\n'), new RegExp(`the audit log no longer holds event ${rows.length}, anchored at .*: events were deleted or rewritten since`));
  });

  it('does not start when the anchor file cannot be opened for appending', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coffer-anchorless-'));
    try {
      await assert.rejects(
        startTestServer({ dataDir, auditAnchorFile: join(dataDir, 'no-such-dir', 'anchors') }),
        /cannot open the audit anchor file .*no-such-dir\/anchors .*--audit-anchor-file/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('cannot check anchors with another root key (exit 2)', async () => {
    const result = await verify([], { ...process.env, COFFER_ROOT_KEY: randomBytes(32).toString('base64') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /root key does not match/);
  });
});
