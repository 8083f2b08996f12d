import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { CreateAliasCommand, CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { GetUserCommand, GetUserPolicyCommand, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { TRANSFER_CATALOG } from '../../../src/store/index.js';
import { childEnv } from '../../helpers/child-server.js';
import { runCoffer } from '../../helpers/coffer-cli.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { createUser, iamClient, type Keys } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * `coffer backup` / `coffer restore` (issue 20): a snapshot of a server taken while it writes, restored into
 * an empty data dir, answers every read as the original did and its audit chain verifies; a damaged, cut,
 * extended, foreign or wrongly keyed backup is refused with a clear message and nothing is written.
 */
const ROOT_KEY = randomBytes(32).toString('base64');
const PASSPHRASE = 'correct horse battery staple';

function coffer(args: string[], env: Record<string, string> = {}) {
  return runCoffer(args, childEnv({ BACKUP_PASSPHRASE: PASSPHRASE, ...env }));
}

type Made = { keyId: string; ciphertext: Uint8Array; user: { name: string; keys: Keys } };

async function populate(server: TestServer): Promise<Made> {
  const sm = secretsClient(server);
  const kms = server.kms();
  try {
    const keyId = (await kms.send(new CreateKeyCommand({ Description: 'backup test' }))).KeyMetadata!.KeyId!;
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/backup-app', TargetKeyId: keyId }));
    const ciphertext = (await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('kept'), EncryptionContext: { app: 'backup' } }))).CiphertextBlob!;
    const user = await createUser(server, server.admin, 'backup-reader', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
    });
    await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'v2' }));
    const staged = await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'v3', VersionStages: ['STAGING'] }));
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/db', VersionStage: 'CUSTOM', MoveToVersionId: staged.VersionId }));
    await sm.send(new CreateSecretCommand({ Name: 'app/binary', SecretBinary: randomBytes(64) }));
    await sm.send(new CreateSecretCommand({ Name: 'app/customer-key', SecretString: '{"password":"p"}', KmsKeyId: 'alias/backup-app' }));
    return { keyId, ciphertext, user: { name: 'backup-reader', keys: user.keys } };
  } finally {
    sm.destroy();
    kms.destroy();
  }
}

/** Every read of what populate() made, as plain data (no request ids): Secrets Manager, KMS and IAM. */
async function readEverything(server: TestServer, admin: Keys, made: Made): Promise<unknown> {
  const sm = secretsClient(server, { credentials: admin });
  const kms = server.kms({ credentials: admin });
  const iam = iamClient(server, admin);
  const asUser = secretsClient(server, { credentials: made.user.keys });
  const plain = (value: object) =>
    JSON.parse(JSON.stringify({ ...value, $metadata: undefined }, (_, item) => (item instanceof Uint8Array ? Buffer.from(item).toString('base64') : item)));
  const outcome = async (call: Promise<object>) => call.then(plain, (error: Error) => ({ error: error.name }));
  try {
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['app/'] }], MaxResults: 100 }));
    const secrets = [];
    for (const secret of listed.SecretList ?? []) {
      const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }));
      const values = [];
      for (const version of versions.Versions ?? []) values.push(await outcome(sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: version.VersionId }))));
      secrets.push({ describe: await outcome(sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }))), versions: plain(versions), values });
    }
    const keys = await kms.send(new ListKeysCommand({}));
    const described = [];
    for (const key of keys.Keys ?? []) described.push(await outcome(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))));
    return {
      listSecrets: plain(listed),
      secrets,
      keys: plain(keys),
      described,
      aliases: await outcome(kms.send(new ListAliasesCommand({}))),
      decrypted: await outcome(kms.send(new DecryptCommand({ CiphertextBlob: made.ciphertext, EncryptionContext: { app: 'backup' } }))),
      user: await outcome(iam.send(new GetUserCommand({ UserName: made.user.name }))),
      accessKeys: await outcome(iam.send(new ListAccessKeysCommand({ UserName: made.user.name }))),
      userPolicy: await outcome(iam.send(new GetUserPolicyCommand({ UserName: made.user.name, PolicyName: 'inline' }))),
      // The user's own key still signs (its secret is sealed under the root key) and its policy still applies.
      asUser: await outcome(asUser.send(new GetSecretValueCommand({ SecretId: 'app/db' }))),
    };
  } finally {
    for (const client of [sm, kms, iam, asUser]) client.destroy();
  }
}

/** The offsets where each sealed chunk of a backup starts (after the header prefix), and the file's end. */
function chunkOffsets(file: Buffer): number[] {
  const headerEnd = 12 + 1 + 4 + file.readUInt32BE(13);
  const offsets = [headerEnd];
  for (let offset = headerEnd; offset < file.length; ) {
    offset += 4 + file.readUInt32BE(offset);
    offsets.push(offset);
  }
  return offsets;
}

describe('coffer backup of a running SQLite server, and coffer restore', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-backup-'));
  const original = join(workDir, 'original');
  const restored = join(workDir, 'restored');
  const backupFile = join(workDir, 'coffer.backup');
  let server: TestServer;
  let made: Made;
  let originalReads: unknown;
  let acknowledgedBeforeBackup: string[] = [];
  let acknowledgedByBackupEnd: string[] = [];

  before(async () => {
    server = await startTestServer({ dataDir: original, rootKeyBase64: ROOT_KEY, auditAnchorIntervalMs: 200 });
    made = await populate(server);
    // Read twice: the first reads of the day set LastAccessedDate, which the backup then carries.
    await readEverything(server, server.admin, made);
    originalReads = await readEverything(server, server.admin, made);
  });
  after(async () => {
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(`${original}.audit-anchors`, { force: true });
    rmSync(`${restored}.audit-anchors`, { force: true });
  });

  it('backs up while the server keeps acknowledging writes; the file is 0600 and holds no value in clear', async () => {
    const sm = secretsClient(server);
    await sm.send(new CreateSecretCommand({ Name: 'load/counter', SecretString: 'load-0' }));
    const acknowledged: string[] = [];
    let writing = true;
    const load = (async () => {
      for (let n = 1; writing; n++) {
        const put = await sm.send(new PutSecretValueCommand({ SecretId: 'load/counter', SecretString: `load-${n}` }));
        acknowledged.push(put.VersionId!);
      }
    })();
    try {
      while (acknowledged.length < 5) await new Promise((resolve) => setTimeout(resolve, 20));
      acknowledgedBeforeBackup = [...acknowledged];
      const result = await coffer(['backup', backupFile, '--data-dir', original, '--passphrase-env', 'BACKUP_PASSPHRASE']);
      acknowledgedByBackupEnd = [...acknowledged];
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`backed up \\d+ rows in ${TRANSFER_CATALOG.length} tables .*audit head: event \\d+`));
      assert.match(result.stdout, /root key is not in the backup/);
    } finally {
      writing = false;
      await load;
      sm.destroy();
    }
    assert.ok(acknowledgedByBackupEnd.length > acknowledgedBeforeBackup.length, 'the server wrote during the backup');
    assert.equal(statSync(backupFile).mode & 0o777, 0o600);
    const bytes = readFileSync(backupFile);
    for (const clear of ['backup-reader', 'app/customer-key', 'GetSecretValue', 'root_key_check']) {
      assert.equal(bytes.includes(Buffer.from(clear)), false, `"${clear}" is not in the file in clear`);
    }
  });

  for (const [what, damage, message] of [
    ['a flipped byte in a middle chunk', (file: Buffer, offsets: number[]) => flip(file, offsets[1]! + 40), /chunk 1 failed authentication/],
    ['a changed header', (file: Buffer) => flip(file, 30), /chunk 0 failed authentication|header is damaged/],
    ['a file cut inside a chunk', (file: Buffer, offsets: number[]) => file.subarray(0, offsets[2]! + 10), /truncated inside chunk 2/],
    ['a file cut after a whole chunk', (file: Buffer, offsets: number[]) => file.subarray(0, offsets[offsets.length - 2]!), /chunk \d+ failed authentication|without its final chunk/],
    ['two chunks swapped', (file: Buffer, offsets: number[]) => swapChunks(file, offsets, 1, 2), /chunk 1 failed authentication/],
    ['bytes appended after the end', (file: Buffer) => Buffer.concat([file, randomBytes(64)]), /failed authentication|truncated/],
    ['a file that is no backup', () => randomBytes(4096), /not a Coffer backup/],
  ] as const) {
    it(`refuses ${what} with exit 2 and creates no target`, async () => {
      const file = readFileSync(backupFile);
      const damaged = join(workDir, 'damaged.backup');
      writeFileSync(damaged, damage(file, chunkOffsets(file)));
      const target = join(workDir, `never-${randomBytes(4).toString('hex')}`);
      const result = await coffer(['restore', damaged, '--to', target, '--passphrase-env', 'BACKUP_PASSPHRASE'], { COFFER_ROOT_KEY: ROOT_KEY });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /nothing was changed/);
      assert.equal(existsSync(target), false);
    });
  }

  it('refuses a wrong passphrase and a foreign root key (another installation), naming which', async () => {
    const target = join(workDir, 'never-keys');
    const wrong = await coffer(['restore', backupFile, '--to', target, '--passphrase-env', 'OTHER'], { OTHER: 'not it', COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong passphrase for this backup/);
    const foreign = await coffer(['restore', backupFile, '--to', target, '--passphrase-env', 'BACKUP_PASSPHRASE'], { COFFER_ROOT_KEY: randomBytes(32).toString('base64') });
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /belongs to another installation: its root key check value does not match/);
    const noKey = await coffer(['restore', backupFile, '--to', target, '--passphrase-env', 'BACKUP_PASSPHRASE']);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /needs the root key/);
    assert.equal(existsSync(target), false);
  });

  it('restores into an empty data dir: every write acknowledged before the backup began is there, and the chain verifies', async () => {
    const result = await coffer(['restore', backupFile, '--to', restored, '--passphrase-env', 'BACKUP_PASSPHRASE'], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /verified: row counts and SHA-256 .* audit chain intact \(\d+ events\)/);
    const verified = await coffer(['audit', 'verify', '--data-dir', restored], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /chain intact/);
    assert.match(verified.stdout, /anchored: event \d+ at .*; 0 events after the newest anchor/);
  });

  it('a server on the restored data dir answers every read as the original did; the load secret holds a consistent prefix', async () => {
    await server.stop();
    const copy = await startTestServer({ dataDir: restored, rootKeyBase64: ROOT_KEY });
    try {
      assert.deepEqual(await readEverything(copy, server.admin, made), originalReads);
      const sm = secretsClient(copy, { credentials: server.admin });
      try {
        // Every page: the load may have written more versions than one page holds (faster with group commit).
        const ids = new Set<string>();
        let nextToken: string | undefined;
        do {
          const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'load/counter', IncludeDeprecated: true, NextToken: nextToken }));
          for (const version of page.Versions!) ids.add(version.VersionId!);
          nextToken = page.NextToken;
        } while (nextToken);
        for (const id of acknowledgedBeforeBackup.slice(-2)) assert.ok(ids.has(id), `version ${id}, acknowledged before the backup, was restored`);
        const current = await sm.send(new GetSecretValueCommand({ SecretId: 'load/counter' }));
        const index = acknowledgedByBackupEnd.indexOf(current.VersionId!);
        assert.ok(index >= acknowledgedBeforeBackup.length - 1, 'AWSCURRENT is a version acknowledged by the time the backup ended');
        assert.equal(current.SecretString, `load-${index + 1}`);
      } finally {
        sm.destroy();
      }
    } finally {
      await copy.stop();
    }
  });

  it('refuses to restore into a data dir that holds data, and leaves it as it was', async () => {
    const before = readFileSync(join(restored, 'coffer.db'));
    const result = await coffer(['restore', backupFile, '--to', restored, '--passphrase-env', 'BACKUP_PASSPHRASE'], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /is not empty .*nothing was changed/);
    assert.ok(readFileSync(join(restored, 'coffer.db')).equals(before));
  });

  it('a key file works instead of a passphrase, and --check-only reads the whole file without a target', async () => {
    const keyFile = join(workDir, 'backup.key');
    writeFileSync(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const file = join(workDir, 'keyed.backup');
    const made = await coffer(['backup', file, '--data-dir', restored, '--key-file', keyFile]);
    assert.equal(made.code, 0, made.stderr);
    const checked = await coffer(['restore', file, '--check-only', '--key-file', keyFile], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, new RegExp(`intact; \\d+ rows in ${TRANSFER_CATALOG.length} tables`));
    const otherKey = join(workDir, 'other.key');
    writeFileSync(otherKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const wrong = await coffer(['restore', file, '--check-only', '--key-file', otherKey], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /wrong key file for this backup/);
    const refused = await coffer(['backup', file, '--data-dir', restored, '--key-file', keyFile]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already exists/);
  });
});

describe('coffer backup of a PostgreSQL deployment, restored into a SQLite data dir and into PostgreSQL', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-backup-pg-'));
  const restored = join(workDir, 'restored');
  const backupFile = join(workDir, 'pg.backup');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let target: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    await target?.drop();
    rmSync(workDir, { recursive: true, force: true });
    rmSync(`${restored}.audit-anchors`, { force: true });
  });

  it('backs up through the store while the node runs; the restored data dir answers reads alike and its chain verifies', async () => {
    const server = await startTestServer({ postgres: { url: database.url }, rootKeyBase64: ROOT_KEY });
    let made: Made;
    let reads: unknown;
    try {
      made = await populate(server);
      await readEverything(server, server.admin, made);
      reads = await readEverything(server, server.admin, made);
      const result = await coffer(['backup', backupFile, '--store', database.url, '--passphrase-env', 'BACKUP_PASSPHRASE']);
      assert.equal(result.code, 0, result.stderr);
    } finally {
      await server.stop();
    }
    const restore = await coffer(['restore', backupFile, '--to', restored, '--passphrase-env', 'BACKUP_PASSPHRASE'], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(restore.code, 0, restore.stderr);
    const verified = await coffer(['audit', 'verify', '--data-dir', restored], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(verified.code, 0, verified.stderr);
    const copy = await startTestServer({ dataDir: restored, rootKeyBase64: ROOT_KEY });
    try {
      assert.deepEqual(await readEverything(copy, server.admin, made), reads);
    } finally {
      await copy.stop();
    }

    // And into another PostgreSQL database, its anchors in a file given for it.
    target = await createTestDatabase();
    const anchors = join(workDir, 'pg-target.audit-anchors');
    const intoPostgres = await coffer(['restore', backupFile, '--to', target.url, '--audit-anchor-file', anchors, '--passphrase-env', 'BACKUP_PASSPHRASE'], {
      COFFER_ROOT_KEY: ROOT_KEY,
    });
    assert.equal(intoPostgres.code, 0, intoPostgres.stderr);
    const verifiedThere = await coffer(['audit', 'verify', '--store', target.url, '--audit-anchor-file', anchors], { COFFER_ROOT_KEY: ROOT_KEY });
    assert.equal(verifiedThere.code, 0, verifiedThere.stderr);
    const node = await startTestServer({ postgres: { url: target.url }, rootKeyBase64: ROOT_KEY });
    try {
      assert.deepEqual(await readEverything(node, server.admin, made), reads);
    } finally {
      await node.stop();
    }
  });
});

function flip(file: Buffer, offset: number): Buffer {
  const copy = Buffer.from(file);
  copy[offset]! ^= 0x40;
  return copy;
}

function swapChunks(file: Buffer, offsets: number[], a: number, b: number): Buffer {
  const chunk = (index: number) => file.subarray(offsets[index]!, offsets[index + 1]!);
  return Buffer.concat([file.subarray(0, offsets[a]!), chunk(b), chunk(a), file.subarray(offsets[b + 1]!)]);
}
