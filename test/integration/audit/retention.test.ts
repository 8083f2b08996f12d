import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { auditRows, coffer } from '../../helpers/audit.js';
import { childEnv } from '../../helpers/child-server.js';
import { ManualClock } from '../../helpers/clock.js';
import { rawCall } from '../../helpers/signed-fetch.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { silentLogger } from '../../../src/core/index.js';
import { createAuditRetention } from '../../../src/server/audit-retention.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';

/**
 * Audit retention (issue 20): past `--audit-retention-days` whole UTC days leave the database for gzip archive
 * files, one per day, each naming the previous file's SHA-256 and carrying the chain head; LookupEvents answers
 * from the database's window; `coffer audit verify` still passes on what remains, and `--archive DIR` checks
 * the files and the database as one chain and names a changed, removed or reordered file.
 */
const ROOT_KEY = randomBytes(32).toString('base64');
const DAY_MS = 86_400_000;
const START = Date.parse('2026-01-01T12:00:00Z');

describe('audit retention: archive files and the database verify as one chain', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-retention-'));
  const dataDir = join(workDir, 'data');
  const archiveDir = join(workDir, 'archive');
  const clock = new ManualClock(new Date(START));
  let server: TestServer;
  let archivedFiles: string[] = [];

  /** A few audited calls on the clock's day: a new secret and two reads of it. */
  async function callsOnDay(day: number): Promise<void> {
    const sm = secretsClient(server);
    try {
      await sm.send(new CreateSecretCommand({ Name: `retention/day-${day}`, SecretString: `value-${day}` }));
      for (let read = 0; read < 2; read++) await sm.send(new GetSecretValueCommand({ SecretId: `retention/day-${day}` }));
    } finally {
      sm.destroy();
    }
  }

  const verify = (args: string[]) => coffer(['audit', 'verify', '--data-dir', dataDir, ...args], childEnv({ COFFER_ROOT_KEY: ROOT_KEY }));

  before(async () => {
    server = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, clock, auditRetentionDays: 90, auditArchiveDir: archiveDir, auditAnchorIntervalMs: 50 });
    for (let day = 0; day < 5; day++) {
      await callsOnDay(day);
      clock.advanceDays(1);
    }
  });
  after(async () => {
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  it('archives nothing while every event is inside the window', async () => {
    await server.server.coffer.runMaintenance();
    assert.deepEqual(readdirSync(workDir).includes('archive') ? readdirSync(archiveDir) : [], []);
  });

  it('moves whole UTC days past 90 days to one gzip file each, 0600, and deletes them from the database', async () => {
    const before = auditRows(dataDir);
    // Day 93 at 12:00: the window starts at midnight of Jan 4, so Jan 1-3 leave; Jan 4 and 5 stay.
    clock.advanceDays(93 - 5);
    await callsOnDay(93);
    await server.server.coffer.runMaintenance();
    archivedFiles = readdirSync(archiveDir).sort();
    assert.deepEqual(
      archivedFiles.map((name) => name.slice(0, 'audit-2026-01-01'.length)),
      ['audit-2026-01-01', 'audit-2026-01-02', 'audit-2026-01-03'],
    );
    for (const name of archivedFiles) assert.equal(statSync(join(archiveDir, name)).mode & 0o777, 0o600);
    const cutoff = Date.parse('2026-01-04T00:00:00Z');
    const archived = before.filter((row) => Number(row.event_time) < cutoff);
    assert.ok(archived.length >= 9, 'three days of calls were archived');
    const remaining = auditRows(dataDir);
    assert.equal(remaining[0]!.sequence, archived[archived.length - 1]!.sequence + 1, 'the database starts right after the archive');
    assert.ok(remaining.every((row) => Number(row.event_time) >= cutoff));
    // Each file holds its day's events with their hashes, and names the file before it and that file's SHA-256.
    const lines = (name: string) => gunzipSync(readFileSync(join(archiveDir, name))).toString('utf8').trim().split('\n').map((line) => JSON.parse(line));
    const first = lines(archivedFiles[0]!);
    assert.equal(first[0].previousFile, null);
    assert.equal(first[1].hash, archived[0]!.hash);
    const second = lines(archivedFiles[1]!);
    assert.equal(second[0].previousFile, archivedFiles[0]);
    assert.match(second[0].previousSha256, /^[0-9a-f]{64}$/);
    assert.equal(second[0].prevHash, first[first.length - 1].chainHead);
  });

  it('a second run on the same day archives nothing more', async () => {
    await server.server.coffer.runMaintenance();
    assert.deepEqual(readdirSync(archiveDir).sort(), archivedFiles);
  });

  it('LookupEvents answers from the database window only', async () => {
    const response = await rawCall(server.url, {
      target: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
      service: 'cloudtrail',
      credentials: server.admin,
      body: JSON.stringify({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateSecret' }], MaxResults: 50 }),
    });
    assert.equal(response.status, 200, response.text);
    const names = (response.json!.Events as Array<{ Resources?: Array<{ ResourceName: string }>; CloudTrailEvent: string }>).map(
      (event) => JSON.parse(event.CloudTrailEvent).requestParameters.Name as string,
    );
    assert.deepEqual(names.sort(), ['retention/day-3', 'retention/day-4', 'retention/day-93']);
  });

  it('`coffer audit verify` passes on what remains; with --archive it verifies files and database as one chain', async () => {
    await callsOnDay(94); // the chain goes on after the prune
    await server.stop();
    const plain = await verify([]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /archived: events 1 to \d+ left the database .* not checked; give --archive DIR/);
    const whole = await verify(['--archive', archiveDir]);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /archived: events 1 to \d+ in 3 files, verified with the database as one chain/);
    assert.match(whole.stdout, /anchored: event \d+/);
    const total = Number(/^(\d+) events, chain intact/.exec(whole.stdout)![1]);
    assert.ok(total > auditRows(dataDir).length);
  });

  for (const [what, tamper, message] of [
    ['a changed event inside a file (re-compressed)', (dir: string, names: string[]) => rewriteFile(dir, names[1]!, (text) => text.replace('retention/day-1', 'retention/day-X')), /hash does not match the event|does not follow/],
    ['a middle file removed', (dir: string, names: string[]) => rmSync(join(dir, names[1]!)), /does not follow .*a file was removed, replaced or changed/],
    ['the oldest file removed', (dir: string, names: string[]) => rmSync(join(dir, names[0]!)), /names a previous file .* the oldest archive files are missing/],
    ['a cut file', (dir: string, names: string[]) => writeFileSync(join(dir, names[2]!), readFileSync(join(dir, names[2]!)).subarray(0, 60)), /damaged or truncated/],
  ] as const) {
    it(`--archive names ${what} (exit 1)`, async () => {
      const copy = join(workDir, `archive-${randomBytes(3).toString('hex')}`);
      cpSync(archiveDir, copy, { recursive: true });
      tamper(copy, archivedFiles);
      const result = await verify(['--archive', copy]);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, message);
    });
  }

  it('the database without its last archived days fails with --archive: the join is checked', async () => {
    const copy = join(workDir, 'archive-short');
    cpSync(archiveDir, copy, { recursive: true });
    rmSync(join(copy, archivedFiles[2]!));
    const result = await verify(['--archive', copy]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /event \d+ is missing \(next stored event is \d+\)/);
  });

  it('a backup of the pruned store restores, and the restored chain verifies from its first event', async () => {
    const file = join(workDir, 'pruned.backup');
    const env = childEnv({ COFFER_ROOT_KEY: ROOT_KEY, PASS: 'retention backup' });
    const made = await coffer(['backup', file, '--data-dir', dataDir, '--passphrase-env', 'PASS'], env);
    assert.equal(made.code, 0, made.stderr);
    const restored = join(workDir, 'restored');
    try {
      const restore = await coffer(['restore', file, '--to', restored, '--passphrase-env', 'PASS'], env);
      assert.equal(restore.code, 0, restore.stderr);
      const verified = await coffer(['audit', 'verify', '--data-dir', restored, '--archive', archiveDir], env);
      assert.equal(verified.code, 0, verified.stderr);
    } finally {
      rmSync(`${restored}.audit-anchors`, { force: true });
    }
  });
});

/** Replaces a file's text and gzips it again (what someone editing an archive would do). */
function rewriteFile(dir: string, name: string, change: (text: string) => string): void {
  const path = join(dir, name);
  writeFileSync(path, gzipSync(change(gunzipSync(readFileSync(path)).toString('utf8'))));
}

describe('audit retention on PostgreSQL (the node given --audit-archive-dir)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-retention-pg-'));
  const archiveDir = join(workDir, 'archive');
  const anchorFile = join(workDir, 'node.audit-anchors');
  const clock = new ManualClock(new Date(START));
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('archives past days from the shared database and verifies with --store and --archive', async () => {
    const server = await startTestServer({
      postgres: { url: database.url },
      rootKeyBase64: ROOT_KEY,
      clock,
      auditRetentionDays: 90,
      auditArchiveDir: archiveDir,
      auditAnchorFile: anchorFile,
      auditAnchorIntervalMs: 50,
    });
    try {
      const sm = secretsClient(server);
      try {
        for (let day = 0; day < 3; day++) {
          await sm.send(new CreateSecretCommand({ Name: `retention-pg/day-${day}`, SecretString: 'v' }));
          clock.advanceDays(1);
        }
        clock.advanceDays(90);
        await sm.send(new GetSecretValueCommand({ SecretId: 'retention-pg/day-2' }));
        await server.server.coffer.runMaintenance();
      } finally {
        sm.destroy();
      }
    } finally {
      await server.stop();
    }
    // START + 93 days at 12:00: the window begins at midnight of Jan 4, so days 0-2 (Jan 1-3) left.
    assert.equal(readdirSync(archiveDir).length, 3);
    const env = childEnv({ COFFER_ROOT_KEY: ROOT_KEY });
    const whole = await coffer(['audit', 'verify', '--store', database.url, '--audit-anchor-file', anchorFile, '--archive', archiveDir], env);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /in 3 files, verified with the database as one chain/);
    const plain = await coffer(['audit', 'verify', '--store', database.url, '--audit-anchor-file', anchorFile], env);
    assert.equal(plain.code, 0, plain.stderr);
  });
});

describe('audit retention stopped between writing the files and deleting their events', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-retention-stop-'));
  const dataDir = join(workDir, 'data');
  const archiveDir = join(workDir, 'archive');
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('the next run deletes what the files hold, archives nothing twice, and the chain verifies', async () => {
    const clock = new ManualClock(new Date(START));
    const server = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, clock });
    const sm = secretsClient(server);
    try {
      for (let day = 0; day < 3; day++) {
        await sm.send(new CreateSecretCommand({ Name: `retention-stop/day-${day}`, SecretString: 'v' }));
        clock.advanceDays(1);
      }
      clock.advanceDays(90);
      await sm.send(new CreateSecretCommand({ Name: 'retention-stop/now', SecretString: 'v' }));
    } finally {
      sm.destroy();
      await server.stop();
    }
    const store = new SqliteStore(join(dataDir, 'coffer.db'));
    try {
      const held = auditRows(dataDir).length;
      // The process stops (here: the delete fails) after the files were written.
      const stopped = createAuditRetention({
        store: { listAuditEvents: (after, limit) => store.listAuditEvents(after, limit), pruneAuditEvents: () => Promise.reject(new Error('stopped')) },
        retentionDays: 90,
        archiveDir,
        logger: silentLogger,
      });
      await assert.rejects(stopped.runDue(clock.now()), /stopped/);
      const files = readdirSync(archiveDir).sort();
      assert.equal(files.length, 3);
      assert.equal(auditRows(dataDir).length, held, 'nothing was deleted');
      const again = await createAuditRetention({ store, retentionDays: 90, archiveDir, logger: silentLogger }).runDue(clock.now());
      assert.deepEqual(again, [], 'no file written twice');
      assert.deepEqual(readdirSync(archiveDir).sort(), files);
      assert.equal(auditRows(dataDir).length, 1, "only the window's event is left");
    } finally {
      store.close();
    }
    const verified = await coffer(['audit', 'verify', '--data-dir', dataDir, '--archive', archiveDir], childEnv({ COFFER_ROOT_KEY: ROOT_KEY }));
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /in 3 files, verified with the database as one chain/);
  });
});
