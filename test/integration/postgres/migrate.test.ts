import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  CreateGrantCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  RotateKeyOnDemandCommand,
  TagResourceCommand as TagKeyCommand,
} from '@aws-sdk/client-kms';
import {
  AddUserToGroupCommand,
  CreateGroupCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  GetRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  PutGroupPolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { CreateFunctionCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetParameterHistoryCommand, GetParametersByPathCommand, LabelParameterVersionCommand, ListTagsForResourceCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { defaultAuditAnchorFile } from '../../../src/server/index.js';
import { TRANSFER_CATALOG } from '../../../src/store/index.js';
import { childEnv, COFFER_BIN } from '../../helpers/child-server.js';
import { lambdaClient, ROTATION_ACTIONS } from '../../helpers/lambda.js';
import { createAccount, createExecutionRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { ssmClient } from '../../helpers/ssm.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { auditRows } from '../../helpers/audit.js';

/**
 * `coffer migrate` (issue 14, part 5): a populated SQLite data dir copied to PostgreSQL and back with the real
 * CLI; the copies hold the same bytes, answer every read as the original did, and keep the audit chain.
 */
const ROOT_KEY = randomBytes(32).toString('base64');

type Run = { code: number; stdout: string; stderr: string };

/** `coffer migrate ...` (bin/coffer) with the root key in the environment, as an operator runs it. */
function coffer(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [COFFER_BIN, ...args], { timeout: 120_000, env: childEnv({ COFFER_ROOT_KEY: ROOT_KEY }) }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What the population made that reads need to name. */
type Made = { keyId: string; ciphertexts: Uint8Array[]; user: { name: string; keys: Keys }; roleName: string; functionName: string };

async function populate(server: TestServer): Promise<Made> {
  const sm = secretsClient(server);
  const kms = server.kms();
  const lambda = lambdaClient(server);
  try {
    // KMS: a customer key rotated twice (three backing keys), ciphertexts under the first and the last, an alias, a tag, a grant.
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const ciphertexts = [(await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('before rotation') }))).CiphertextBlob!];
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: key }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: key, RotationPeriodInDays: 90 }));
    ciphertexts.push((await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from('after rotation'), EncryptionContext: { app: 'migrate' } }))).CiphertextBlob!);
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/migrate-app', TargetKeyId: key }));
    await kms.send(new TagKeyCommand({ KeyId: key, Tags: [{ TagKey: 'team', TagValue: 'platform' }] }));

    // IAM: a user with an inline policy and an access key, in a group with one; a role with one; a second account.
    const user = await createUser(server, server.admin, 'alice', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
      tags: { dept: 'ops' },
    });
    const groups = iamClient(server, server.admin);
    await groups.send(new CreateGroupCommand({ GroupName: 'migrate-group', Path: '/ops/' }));
    await groups.send(new AddUserToGroupCommand({ GroupName: 'migrate-group', UserName: 'alice' }));
    await groups.send(
      new PutGroupPolicyCommand({
        GroupName: 'migrate-group',
        PolicyName: 'list',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] }),
      }),
    );
    groups.destroy();
    const role = 'migrate-rotator-role';
    await createExecutionRole(server, role, ROTATION_ACTIONS);
    await createAccount(server);
    await kms.send(new CreateGrantCommand({ KeyId: key, GranteePrincipal: user.arn, Operations: ['Decrypt'], Name: 'alice-decrypt' }));

    // Secrets: versions with a custom label, a binary one, one under the customer key, tags, a resource policy, a deleted one.
    await sm.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 'v1', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'v2' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', SecretString: 'v3-staged', VersionStages: ['STAGING'] }));
    await sm.send(new CreateSecretCommand({ Name: 'app/binary', SecretBinary: randomBytes(48) }));
    await sm.send(new CreateSecretCommand({ Name: 'app/customer-key', SecretString: '{"password":"p"}', KmsKeyId: 'alias/migrate-app' }));
    await sm.send(new TagResourceCommand({ SecretId: 'app/binary', Tags: [{ Key: 'kind', Value: 'bytes' }] }));
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: 'app/db',
        ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }),
      }),
    );
    await sm.send(new CreateSecretCommand({ Name: 'app/retired', SecretString: 'gone soon' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'app/retired', RecoveryWindowInDays: 7 }));

    // Functions: an HTTP function (its URL and variables sealed) that nothing answers, so rotating through it fails
    // and leaves a rotation run; and a built-in one.
    const functionName = 'migrate-http';
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: functionName,
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Timeout: 2,
        Environment: { Variables: { COFFER_FUNCTION_URL: 'http://127.0.0.1:9/rotate', TOKEN: 'sealed-variable' } },
      }),
    );
    const rotatorRole = await createExecutionRole(server, 'migrate-builtin-role', ROTATION_ACTIONS);
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'migrate-builtin', Runtime: 'coffer-builtin' as never, Handler: 'postgres-single-user', Role: rotatorRole.arn, Code: {} }));
    await sm.send(new CreateSecretCommand({ Name: 'app/rotated', SecretString: '{"username":"u","password":"p"}' }));
    await sm
      .send(
        new RotateSecretCommand({
          SecretId: 'app/rotated',
          RotationLambdaARN: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
          RotationRules: { AutomaticallyAfterDays: 30 },
        }),
      )
      .catch(() => undefined);
    await server.server.coffer.rotation.idle();

    // Parameter Store: a SecureString with two versions and a label, a tagged String.
    const ssm = ssmClient(server);
    await ssm.send(new PutParameterCommand({ Name: '/migrate/db/password', Value: 'first', Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: '/migrate/db/password', Value: 'second', Type: 'SecureString', Overwrite: true }));
    await ssm.send(new LabelParameterVersionCommand({ Name: '/migrate/db/password', ParameterVersion: 1, Labels: ['old'] }));
    await ssm.send(new PutParameterCommand({ Name: '/migrate/flag', Value: 'on', Type: 'String', Tags: [{ Key: 'team', Value: 'core' }] }));
    ssm.destroy();
    return { keyId: key, ciphertexts, user: { name: 'alice', keys: user.keys }, roleName: role, functionName };
  } finally {
    sm.destroy();
    kms.destroy();
    lambda.destroy();
  }
}

/** Everything a client can read, as plain data (no request ids), in a fixed order. */
async function readEverything(server: TestServer, admin: Keys, made: Made): Promise<unknown> {
  const sm = secretsClient(server, { credentials: admin });
  const kms = server.kms({ credentials: admin });
  const iam = iamClient(server, admin);
  const lambda = lambdaClient(server, { credentials: admin });
  const asUser = secretsClient(server, { credentials: made.user.keys });
  const sts = stsClient(server, made.user.keys);
  const ssm = ssmClient(server, { credentials: admin });
  const plain = (value: object) => JSON.parse(JSON.stringify({ ...value, $metadata: undefined }, (_, item) => (item instanceof Uint8Array ? Buffer.from(item).toString('base64') : item)));
  const outcome = async (call: Promise<object>) => call.then(plain, (error: Error) => ({ error: error.name }));
  try {
    const listed = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true, MaxResults: 100 }));
    const secrets = [];
    for (const secret of listed.SecretList ?? []) {
      const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }));
      const values = [];
      for (const version of versions.Versions ?? []) values.push(await outcome(sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: version.VersionId }))));
      secrets.push({
        describe: await outcome(sm.send(new DescribeSecretCommand({ SecretId: secret.ARN }))),
        versions: plain(versions),
        values,
        policy: await outcome(sm.send(new GetResourcePolicyCommand({ SecretId: secret.ARN }))),
      });
    }
    const keys = await kms.send(new ListKeysCommand({}));
    const described = [];
    for (const key of keys.Keys ?? []) described.push(await outcome(kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))));
    return {
      listSecrets: plain(listed),
      secrets,
      keys: plain(keys),
      described,
      decrypted: await Promise.all(made.ciphertexts.map((blob, index) =>
        outcome(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: index === 1 ? { app: 'migrate' } : undefined }))),
      )),
      rotationStatus: await outcome(kms.send(new GetKeyRotationStatusCommand({ KeyId: made.keyId }))),
      keyTags: await outcome(kms.send(new ListResourceTagsCommand({ KeyId: made.keyId }))),
      aliases: await outcome(kms.send(new ListAliasesCommand({}))),
      grants: await outcome(kms.send(new ListGrantsCommand({ KeyId: made.keyId }))),
      user: await outcome(iam.send(new GetUserCommand({ UserName: made.user.name }))),
      accessKeys: await outcome(iam.send(new ListAccessKeysCommand({ UserName: made.user.name }))),
      userPolicies: await outcome(iam.send(new ListUserPoliciesCommand({ UserName: made.user.name }))),
      userPolicy: await outcome(iam.send(new GetUserPolicyCommand({ UserName: made.user.name, PolicyName: 'inline' }))),
      role: await outcome(iam.send(new GetRoleCommand({ RoleName: made.roleName }))),
      rolePolicies: await outcome(iam.send(new ListRolePoliciesCommand({ RoleName: made.roleName }))),
      group: await outcome(iam.send(new GetGroupCommand({ GroupName: 'migrate-group' }))),
      groupPolicy: await outcome(iam.send(new GetGroupPolicyCommand({ GroupName: 'migrate-group', PolicyName: 'list' }))),
      function: await outcome(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: made.functionName }))),
      // The user's own key still signs (its secret is sealed under the root key) and its policy still applies.
      asUser: await outcome(asUser.send(new GetSecretValueCommand({ SecretId: 'app/db' }))),
      callerIdentity: await outcome(sts.send(new GetCallerIdentityCommand({}))),
      parameters: await outcome(ssm.send(new GetParametersByPathCommand({ Path: '/migrate', Recursive: true, WithDecryption: true }))),
      parameterHistory: await outcome(ssm.send(new GetParameterHistoryCommand({ Name: '/migrate/db/password', WithDecryption: true }))),
      parameterTags: await outcome(ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/migrate/flag' }))),
    };
  } finally {
    for (const client of [sm, kms, iam, lambda, asUser, sts, ssm]) client.destroy();
  }
}

/** Every catalog table of a data dir, every column but the rowid, in primary-key order (coffer.db and audit.db). */
function dumpDataDir(dataDir: string): Record<string, unknown[]> {
  const dump: Record<string, unknown[]> = {};
  for (const table of TRANSFER_CATALOG) {
    if (table.name === 'audit_events') {
      // In their logical form: each data dir gives the events' repeated texts ids of its own (store/sqlite/audit-rows.ts).
      dump[table.name] = auditRows(dataDir).map((row) => Object.values(row));
      continue;
    }
    const db = new Database(join(dataDir, 'coffer.db'), { readonly: true });
    try {
      const columns = table.columns.filter((column) => column.kind !== 'position').map((column) => column.name);
      const order = table.order.map((name) => (table.columns.find((column) => column.name === name)!.kind === 'position' ? 'rowid' : name));
      dump[table.name] = db.prepare(`SELECT ${columns.join(', ')} FROM ${table.name} ORDER BY ${order.join(', ')}`).raw(true).all();
    } finally {
      db.close();
    }
  }
  return dump;
}

/** Rows per catalog table of a PostgreSQL database. */
async function countPostgresRows(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of TRANSFER_CATALOG) counts[table.name] = Number((await client.query(`SELECT count(*) AS n FROM ${table.name}`)).rows[0].n);
    return counts;
  } finally {
    await client.end();
  }
}

describe('coffer migrate: SQLite → PostgreSQL → SQLite', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'coffer-migrate-'));
  const original = join(workDir, 'original');
  const roundTrip = join(workDir, 'round-trip');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: Keys;
  let made: Made;
  let originalReads: unknown;
  let originalDump: Record<string, unknown[]>;

  before(async () => {
    database = await createTestDatabase();
    const server = await startTestServer({ dataDir: original, rootKeyBase64: ROOT_KEY });
    admin = server.admin;
    made = await populate(server);
    // Read twice: the first reads of the day set LastAccessedDate, which the copies then carry.
    await readEverything(server, admin, made);
    originalReads = await readEverything(server, admin, made);
    await server.stop();
    originalDump = dumpDataDir(original);
  });
  after(async () => {
    await database?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('the population reaches every table that matters (a run of rotation, three backing keys, sealed function variables)', () => {
    for (const table of ['meta', 'accounts', 'iam_users', 'iam_roles', 'iam_user_policies', 'iam_role_policies', 'iam_groups', 'iam_group_members',
      'iam_group_policies', 'access_keys', 'kms_keys',
      'kms_backing_keys', 'kms_key_tags', 'kms_aliases', 'kms_grants', 'secrets', 'secret_versions', 'secret_version_stages', 'secret_tags',
      'rotation_runs', 'functions', 'ssm_parameters', 'ssm_parameter_versions', 'audit_events']) {
      assert.ok(originalDump[table]!.length > 0, `${table} has rows`);
    }
    assert.ok(originalDump.functions!.some((row) => Buffer.isBuffer((row as unknown[])[14])), 'a sealed environment');
  });

  it('copies to PostgreSQL and back with exit 0; the second SQLite holds the same bytes in every table, sealed blobs included', async () => {
    const there = await coffer(['migrate', '--from', original, '--to', database.url]);
    assert.equal(there.code, 0, there.stderr);
    assert.match(there.stdout, /verified: row counts and SHA-256 of every sealed blob and every row match/);
    assert.match(there.stdout, /root key was not copied/);
    assert.match(there.stderr, /copied secret_versions: \d+\/\d+ rows/);
    // The operator copied the root key in first, as the command advises: a data dir without a database is still empty.
    mkdirSync(roundTrip, { mode: 0o700 });
    writeFileSync(join(roundTrip, 'root.key'), `${ROOT_KEY}\n`, { mode: 0o600 });
    const back = await coffer(['migrate', '--from', database.url, '--to', roundTrip]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(dumpDataDir(roundTrip), originalDump);
  });

  it('the audit log keeps its chain: `coffer audit verify` gives the same head on all three stores, under the original anchors', async () => {
    const anchors = defaultAuditAnchorFile(original);
    const heads = [];
    for (const where of [['--data-dir', original], ['--store', database.url], ['--data-dir', roundTrip]]) {
      const verified = await coffer(['audit', 'verify', ...where, '--audit-anchor-file', anchors]);
      assert.equal(verified.code, 0, verified.stderr);
      assert.match(verified.stdout, /chain intact/);
      heads.push(/head: (.*)/.exec(verified.stdout)![1]);
    }
    assert.equal(new Set(heads).size, 1, heads.join(' | '));
  });

  it('servers on the PostgreSQL copy and on the SQLite round trip answer every read as the original did', async () => {
    for (const options of [{ postgres: { url: database.url } }, { dataDir: roundTrip }]) {
      const server = await startTestServer({ ...options, rootKeyBase64: ROOT_KEY });
      try {
        const reads = await readEverything(server, admin, made);
        assert.deepEqual(reads, originalReads);
      } finally {
        await server.stop();
      }
    }
  });

  it('refuses a target that holds data with exit 2 and leaves it unchanged (a data dir and a database)', async () => {
    const before = dumpDataDir(roundTrip);
    const refused = await coffer(['migrate', '--from', original, '--to', roundTrip]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /is not empty .*nothing was changed/);
    assert.deepEqual(dumpDataDir(roundTrip), before);

    const rowsBefore = await countPostgresRows(database.url);
    const refusedPg = await coffer(['migrate', '--from', original, '--to', database.url]);
    assert.equal(refusedPg.code, 2);
    assert.match(refusedPg.stderr, /not empty/);
    assert.deepEqual(await countPostgresRows(database.url), rowsBefore);
  });

  it('--verify-only passes on a faithful copy and names the table when a sealed byte of the copy is flipped', async () => {
    const copy = join(workDir, 'copy');
    assert.equal((await coffer(['migrate', '--from', original, '--to', copy])).code, 0);
    const faithful = await coffer(['migrate', '--from', original, '--to', copy, '--verify-only']);
    assert.equal(faithful.code, 0, faithful.stderr);
    const db = new Database(join(copy, 'coffer.db'));
    try {
      const row = db.prepare('SELECT rowid, sealed_value FROM secret_versions WHERE sealed_value IS NOT NULL LIMIT 1').get() as { rowid: number; sealed_value: Buffer };
      row.sealed_value[row.sealed_value.length - 1]! ^= 0x01;
      db.prepare('UPDATE secret_versions SET sealed_value = ? WHERE rowid = ?').run(row.sealed_value, row.rowid);
    } finally {
      db.close();
    }
    const corrupted = await coffer(['migrate', '--from', original, '--to', copy, '--verify-only']);
    assert.equal(corrupted.code, 1);
    assert.match(corrupted.stderr, /verification failed: .*secret_versions \(sealed blobs differ\)/);
  });
});
