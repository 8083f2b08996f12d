/**
 * `npm run reliability:backup`: the full run of issue 20's backup and retention promises
 * (docs/reliability.md, "Backups and audit retention"). The reduced runs are test/integration/backup/backup-restore.test.ts and
 * test/integration/audit/retention.test.ts, which `npm test` runs.
 *
 *  1. Backups of a server under write load: BACKUPS backups taken one after another while WRITERS clients keep
 *     writing; each restored into a fresh data dir, a server started on it, and every write acknowledged before
 *     that backup began read back (value and version), each secret's AWSCURRENT an acknowledged version, and
 *     `coffer audit verify` on the restored dir passing.
 *  2. Damage: DAMAGES random changes of one backup (a flipped byte anywhere, a cut at any length, two chunks
 *     swapped, bytes appended): every one refused by checkBackup, none accepted.
 *  3. Retention: DAYS simulated days of calls with maintenance each day (90-day window): after each run the
 *     database holds only the window, `verify` passes with and without the archive, and every archive file
 *     changed (an event edited, a file removed) is named by `verify --archive`.
 *  4. Volume: VOLUME_EVENTS synthetic audit events over 120 days, then backup, restore, the first retention run
 *     over that backlog and verify --archive, each timed (and the CLI's peak RSS).
 * Prints one JSON line of figures at the end; exit 1 if any promise failed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { canonicalJson, indexFields } from '../../src/audit/index.js';
import { silentLogger } from '../../src/core/index.js';
import { checkBackup, openAuditLog } from '../../src/server/index.js';
import { createAuditRetention } from '../../src/server/audit-retention.js';
import type { AuditEventDraft } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { auditRows } from '../helpers/audit.js';
import { childEnv, COFFER_BIN } from '../helpers/child-server.js';
import { ManualClock } from '../helpers/clock.js';
import { runCoffer } from '../helpers/coffer-cli.js';
import { secretsClient } from '../helpers/secrets.js';
import { startTestServer, type TestServer } from '../helpers/start-server.js';

const SECRETS = Number(process.env.REL_SECRETS ?? 200);
const WRITERS = Number(process.env.REL_WRITERS ?? 8);
const BACKUPS = Number(process.env.REL_BACKUPS ?? 5);
const DAMAGES = Number(process.env.REL_DAMAGES ?? 300);
const DAYS = Number(process.env.REL_DAYS ?? 120);
const CALLS_PER_DAY = Number(process.env.REL_CALLS_PER_DAY ?? 20);
const VOLUME_EVENTS = Number(process.env.REL_VOLUME_EVENTS ?? 200_000);

const ROOT_KEY = randomBytes(32).toString('base64');
const PASSPHRASE = randomBytes(12).toString('base64');
const env = childEnv({ COFFER_ROOT_KEY: ROOT_KEY, BACKUP_PASSPHRASE: PASSPHRASE });
const workDir = mkdtempSync(join(tmpdir(), 'coffer-reliability-backup-'));
const figures: Record<string, unknown> = { secrets: SECRETS, writers: WRITERS };
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** One acknowledged write: which secret, the version, its value, when it was acknowledged. */
type Ack = { secret: string; versionId: string; value: string; at: number };

async function backupsUnderLoad(): Promise<string> {
  const dataDir = join(workDir, 'original');
  const server = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, auditAnchorIntervalMs: 1000 });
  const acks: Ack[] = [];
  const sm = secretsClient(server);
  try {
    for (let index = 0; index < SECRETS; index++) {
      const name = `rel/secret-${index}`;
      const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: `${name}:0` }));
      acks.push({ secret: name, versionId: created.VersionId!, value: `${name}:0`, at: Date.now() });
    }
    let writing = true;
    let failures = 0;
    const writers = Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 1; writing; n++) {
        const name = `rel/secret-${randomInt(SECRETS)}`;
        const value = `${name}:${writer}:${n}`;
        try {
          const put = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
          acks.push({ secret: name, versionId: put.VersionId!, value, at: Date.now() });
        } catch {
          failures += 1;
        }
      }
    });
    const runs = [];
    let lastFile = '';
    for (let index = 0; index < BACKUPS; index++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const file = join(workDir, `backup-${index}`);
      const began = Date.now();
      const acksBefore = acks.length;
      const made = await runCoffer(['backup', file, '--data-dir', dataDir, '--passphrase-env', 'BACKUP_PASSPHRASE'], env);
      const ended = Date.now();
      assert.equal(made.code, 0, made.stderr);
      runs.push({ file, began, ended, acksBefore, acksAfter: acks.length, ms: ended - began, bytes: statSync(file).size });
      lastFile = file;
    }
    writing = false;
    await Promise.all(writers);
    figures.writeFailuresDuringBackups = failures;
    figures.acknowledgedWrites = acks.length;
    figures.backupMsMedian = median(runs.map((run) => run.ms));
    figures.backupBytesLast = runs[runs.length - 1]!.bytes;
    figures.writesAcknowledgedDuringBackups = runs.reduce((sum, run) => sum + (run.acksAfter - run.acksBefore), 0);
    await server.stop();

    const restoreMs: number[] = [];
    let versionsChecked = 0;
    for (const [index, run] of runs.entries()) {
      const restored = join(workDir, `restored-${index}`);
      const started = Date.now();
      const restore = await runCoffer(['restore', run.file, '--to', restored, '--passphrase-env', 'BACKUP_PASSPHRASE'], env);
      restoreMs.push(Date.now() - started);
      assert.equal(restore.code, 0, restore.stderr);
      const verified = await runCoffer(['audit', 'verify', '--data-dir', restored], env);
      assert.equal(verified.code, 0, `restored backup ${index}: ${verified.stderr}`);
      versionsChecked += await checkRestored(restored, acks.slice(0, run.acksBefore), acks.slice(0, run.acksAfter), server.admin);
      rmSync(restored, { recursive: true, force: true });
      rmSync(`${restored}.audit-anchors`, { force: true });
    }
    figures.restoreMsMedian = median(restoreMs);
    figures.versionsCheckedAfterRestore = versionsChecked;
    figures.backupsRestored = runs.length;
    return lastFile;
  } finally {
    sm.destroy();
    await server.stop();
  }
}

/** Every version acknowledged before the backup began reads back; each AWSCURRENT is an acknowledged version. */
async function checkRestored(dataDir: string, before: Ack[], byEnd: Ack[], admin: { accessKeyId: string; secretAccessKey: string }): Promise<number> {
  const server: TestServer = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY });
  const sm = secretsClient(server, { credentials: admin });
  try {
    for (const ack of before) {
      const read = await sm.send(new GetSecretValueCommand({ SecretId: ack.secret, VersionId: ack.versionId }));
      assert.equal(read.SecretString, ack.value, `version ${ack.versionId} of ${ack.secret}`);
    }
    const known = new Map(byEnd.map((ack) => [ack.versionId, ack]));
    for (let index = 0; index < SECRETS; index++) {
      const current = await sm.send(new GetSecretValueCommand({ SecretId: `rel/secret-${index}` }));
      const ack = known.get(current.VersionId!);
      assert.ok(ack, `AWSCURRENT of rel/secret-${index} is an acknowledged version`);
      assert.equal(current.SecretString, ack.value);
    }
    return before.length;
  } finally {
    sm.destroy();
    await server.stop();
  }
}

async function damageSweep(file: string): Promise<void> {
  const original = readFileSync(file);
  const headerEnd = 17 + original.readUInt32BE(13);
  const offsets = [headerEnd];
  for (let offset = headerEnd; offset < original.length; ) offsets.push((offset += 4 + original.readUInt32BE(offset)));
  const damaged = join(workDir, 'damaged');
  const kinds: Record<string, number> = { flip: 0, cut: 0, swap: 0, append: 0 };
  let refused = 0;
  const started = Date.now();
  for (let index = 0; index < DAMAGES; index++) {
    const kind = (['flip', 'cut', 'swap', 'append'] as const)[index % 4]!;
    kinds[kind]! += 1;
    let bytes: Buffer;
    if (kind === 'flip') {
      bytes = Buffer.from(original);
      bytes[randomInt(bytes.length)]! ^= 1 << randomInt(8);
    } else if (kind === 'cut') {
      bytes = original.subarray(0, randomInt(original.length));
    } else if (kind === 'swap' && offsets.length > 3) {
      const a = randomInt(offsets.length - 2);
      const b = a + 1;
      bytes = Buffer.concat([original.subarray(0, offsets[a]!), original.subarray(offsets[b]!, offsets[b + 1]!), original.subarray(offsets[a]!, offsets[b]!), original.subarray(offsets[b + 1]!)]);
    } else {
      bytes = Buffer.concat([original, randomBytes(1 + randomInt(64))]);
    }
    writeFileSync(damaged, bytes);
    const outcome = await checkBackup(damaged, { kind: 'passphrase', passphrase: PASSPHRASE }, Buffer.from(ROOT_KEY, 'base64')).then(
      () => 'accepted',
      (error: Error) => error.name,
    );
    assert.equal(outcome, 'BackupRefusedError', `${kind} #${index} was ${outcome}`);
    refused += 1;
  }
  figures.damagedBackupsRefused = `${refused}/${DAMAGES}`;
  figures.damageKinds = kinds;
  figures.damageCheckMsMedianPerFile = Math.round((Date.now() - started) / DAMAGES);
}

async function retention(): Promise<void> {
  const dataDir = join(workDir, 'retention');
  const archiveDir = join(workDir, 'retention-archive');
  const clock = new ManualClock(new Date('2026-01-01T08:00:00Z'));
  const server = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, clock, auditRetentionDays: 90, auditArchiveDir: archiveDir, auditAnchorIntervalMs: 100 });
  const sm = secretsClient(server);
  let maintenanceMs = 0;
  try {
    await sm.send(new CreateSecretCommand({ Name: 'rel/retention', SecretString: 'kept' }));
    for (let day = 0; day < DAYS; day++) {
      for (let call = 0; call < CALLS_PER_DAY; call++) await sm.send(new GetSecretValueCommand({ SecretId: 'rel/retention' }));
      clock.advanceDays(1);
      const started = Date.now();
      await server.server.coffer.runMaintenance();
      maintenanceMs += Date.now() - started;
      const cutoff = Math.floor((clock.now().getTime() - 90 * 86_400_000) / 86_400_000) * 86_400_000;
      const rows = auditRows(dataDir);
      assert.ok(rows.slice(0, -1).every((row) => Number(row.event_time) >= cutoff), `day ${day}: only the window is in the database`);
      if (day % 10 === 9 || day === DAYS - 1) {
        const log = await openAuditLog(dataDir);
        try {
          assert.equal((await log.verify()).intact, true, `day ${day}: verify without the archive`);
          const whole = await log.verify({ archiveDir });
          assert.equal(whole.intact, true, `day ${day}: verify with the archive: ${JSON.stringify(whole)}`);
        } finally {
          await log.close();
        }
      }
    }
  } finally {
    sm.destroy();
    await server.stop();
  }
  const files = readdirSync(archiveDir).sort();
  figures.retentionDays = DAYS;
  figures.archiveFiles = files.length;
  figures.archiveBytes = files.reduce((sum, name) => sum + statSync(join(archiveDir, name)).size, 0);
  figures.eventsLeftInDatabase = auditRows(dataDir).length;
  figures.maintenanceMsPerDay = Math.round(maintenanceMs / DAYS);
  assert.equal(files.length, DAYS - 90, 'one file per day past the window');
  const whole = await runCoffer(['audit', 'verify', '--data-dir', dataDir, '--archive', archiveDir], env);
  assert.equal(whole.code, 0, whole.stderr);
  // Every file changed, and every file removed, is named.
  let named = 0;
  for (const [index, name] of files.entries()) {
    for (const change of ['edit', 'remove'] as const) {
      const copy = join(workDir, 'archive-copy');
      rmSync(copy, { recursive: true, force: true });
      cpSync(archiveDir, copy, { recursive: true });
      const path = join(copy, name);
      if (change === 'remove') rmSync(path);
      else writeFileSync(path, gzipSync(gunzipSync(readFileSync(path)).toString('utf8').replace('GetSecretValue', 'GetSecretValuX')));
      const result = await runCoffer(['audit', 'verify', '--data-dir', dataDir, '--archive', copy], env);
      assert.equal(result.code, 1, `${change} of ${name} (file ${index}) went unnoticed`);
      named += 1;
    }
  }
  figures.archiveTamperingsNamed = `${named}/${files.length * 2}`;
}

/**
 * 4. Volume: VOLUME_EVENTS audit events (~1 KB each, GetSecretValue-shaped, spread over 120 days) in a data dir,
 *    then `coffer backup`, `coffer restore` (time and peak RSS of each process), the first retention run over the
 *    whole backlog (30 days past the window), and `coffer audit verify --archive`.
 */
async function volume(): Promise<void> {
  const dataDir = join(workDir, 'volume');
  const start = Date.parse('2026-01-01T00:00:00Z');
  const server = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, clock: new ManualClock(new Date(start)) });
  await server.stop();
  const store = new SqliteStore(join(dataDir, 'coffer.db'));
  store.migrate();
  const spanMs = 120 * 86_400_000;
  const appendStarted = Date.now();
  for (let first = 0; first < VOLUME_EVENTS; first += 1000) {
    const drafts = [];
    for (let index = first; index < Math.min(first + 1000, VOLUME_EVENTS); index++) drafts.push(syntheticEvent(new Date(start + 1000 + Math.floor((index / VOLUME_EVENTS) * spanMs))));
    await store.appendAuditEvents(drafts);
  }
  figures.volumeAppendMs = Date.now() - appendStarted;
  store.close();
  // One real call after the backlog, then a clean stop: the head is anchored, as on a running server.
  const again = await startTestServer({ dataDir, rootKeyBase64: ROOT_KEY, clock: new ManualClock(new Date(start + spanMs + 3_600_000)) });
  const sm = secretsClient(again);
  try {
    await sm.send(new CreateSecretCommand({ Name: 'rel/volume', SecretString: 'v' }));
  } finally {
    sm.destroy();
    await again.stop();
  }
  figures.volumeEvents = VOLUME_EVENTS;
  figures.volumeAuditDbBytes = statSync(join(dataDir, 'audit.db')).size;
  const file = join(workDir, 'volume.backup');
  const backup = await timed(['backup', file, '--data-dir', dataDir, '--passphrase-env', 'BACKUP_PASSPHRASE']);
  figures.volumeBackup = { ...backup, bytes: statSync(file).size };
  const restored = join(workDir, 'volume-restored');
  figures.volumeRestore = await timed(['restore', file, '--to', restored, '--passphrase-env', 'BACKUP_PASSPHRASE']);
  const retentionStore = new SqliteStore(join(dataDir, 'coffer.db'));
  const archiveDir = join(workDir, 'volume-archive');
  try {
    const started = Date.now();
    const written = await createAuditRetention({ store: retentionStore, retentionDays: 90, archiveDir, logger: silentLogger }).runDue(new Date(start + spanMs + 86_400_000));
    figures.volumeFirstRetentionRun = { ms: Date.now() - started, files: written.length, archiveBytes: written.reduce((sum, name) => sum + statSync(join(archiveDir, name)).size, 0) };
  } finally {
    retentionStore.close();
  }
  figures.volumeAuditDbBytesAfterPrune = statSync(join(dataDir, 'audit.db')).size;
  figures.volumeVerifyWithArchive = await timed(['audit', 'verify', '--data-dir', dataDir, '--archive', archiveDir]);
}

/** `coffer ARGS` under /usr/bin/time: wall time and the process's peak RSS; fails the run on a non-zero exit. */
async function timed(args: string[]): Promise<{ ms: number; peakRssMiB: number }> {
  const started = Date.now();
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'peak-rss-kib %M', process.execPath, COFFER_BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(result.code, 0, `coffer ${args[0]}: ${result.stderr}`);
  return { ms: Date.now() - started, peakRssMiB: Math.round(Number(/peak-rss-kib (\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024) };
}

function syntheticEvent(time: Date): AuditEventDraft {
  const eventId = randomUUID();
  const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:rel/volume-${randomInt(1000)}-AbCdEf`;
  const event = {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::000000000000:user/app', accountId: '000000000000', accessKeyId: 'AKIAVOLUMEEXAMPLE000', userName: 'app' },
    eventTime: time.toISOString(),
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux#6.8 lang/js md/nodejs#24.0.0 api/secrets-manager#3.700.0 m/E,N',
    requestParameters: { SecretId: arn, VersionStage: 'AWSCURRENT' },
    responseElements: null,
    requestID: randomUUID(),
    eventID: eventId,
    readOnly: true,
    resources: [{ ARN: arn, accountId: '000000000000' }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '000000000000',
    eventCategory: 'Management',
  };
  const body = canonicalJson(event);
  const fields = indexFields(JSON.parse(body));
  return { ...fields, body };
}

try {
  const lastBackup = await backupsUnderLoad();
  await damageSweep(lastBackup);
  await retention();
  if (VOLUME_EVENTS > 0) await volume();
  process.stdout.write(`${JSON.stringify({ result: 'pass', ...figures })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ result: 'fail', error: error instanceof Error ? error.message : String(error), ...figures })}\n`);
  process.exitCode = 1;
} finally {
  // The anchor files and archives sit beside their data dirs, inside workDir too.
  rmSync(workDir, { recursive: true, force: true });
}
