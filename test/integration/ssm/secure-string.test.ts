import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetKeyPolicyCommand, ListAliasesCommand } from '@aws-sdk/client-kms';
import { DescribeParametersCommand, GetParameterCommand, GetParametersByPathCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import pg from 'pg';
import { auditRows } from '../../helpers/audit.js';
import { createKey } from '../../helpers/kms.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { createUser, refusal, type Keys } from '../../helpers/principals.js';
import { ssmClient, uniquePath } from '../../helpers/ssm.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT = '000000000000';

/** A value no file or event may hold once sealed: random, so a match is never an accident. */
function marker(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/** Both files SQLite may hold a fresh row in: the database and its write-ahead log. */
function sqliteBytes(dataDir: string): Buffer {
  const files = ['coffer.db', 'coffer.db-wal'].map((file) => join(dataDir, file)).filter(existsSync);
  return Buffer.concat(files.map((file) => readFileSync(file)));
}

/**
 * SecureString parameters: sealed through Coffer's KMS (alias/aws/ssm created on first use with AWS's key
 * policy, or a customer key the caller must be allowed to use), never in clear in the store files or the audit
 * log; and access control with narrow identity policies, path wildcards and tag conditions.
 */
describe('SSM SecureString and access control', () => {
  let server: TestServer;
  let ssm: SSMClient;

  before(async () => {
    server = await startTestServer();
    ssm = ssmClient(server);
  });
  after(async () => server.cleanup());

  it('seals with alias/aws/ssm by default, shows the ciphertext without decryption, never stores the value in clear', async () => {
    const root = uniquePath('secure');
    const secret = marker('secure-value');
    const clear = marker('clear-value');
    await ssm.send(new PutParameterCommand({ Name: `${root}/password`, Value: secret, Type: 'SecureString' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/plain`, Value: clear, Type: 'String' }));
    const decrypted = await ssm.send(new GetParameterCommand({ Name: `${root}/password`, WithDecryption: true }));
    assert.equal(decrypted.Parameter?.Value, secret);
    const sealed = await ssm.send(new GetParameterCommand({ Name: `${root}/password` }));
    assert.notEqual(sealed.Parameter?.Value, secret);
    assert.match(sealed.Parameter!.Value!, /^[A-Za-z0-9+/]+=*$/);
    assert.doesNotMatch(Buffer.from(sealed.Parameter!.Value!, 'base64').toString('latin1'), new RegExp(secret));
    const byPath = await ssm.send(new GetParametersByPathCommand({ Path: root, WithDecryption: true }));
    assert.deepEqual(byPath.Parameters?.map((parameter) => parameter.Value), [secret, clear]);
    const described = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [`${root}/password`] }] }));
    assert.equal(described.Parameters?.[0]?.KeyId, 'alias/aws/ssm');

    const kms = server.kms();
    const aliases = await kms.send(new ListAliasesCommand({}));
    const managed = aliases.Aliases?.find((alias) => alias.AliasName === 'alias/aws/ssm');
    assert.ok(managed?.TargetKeyId, 'alias/aws/ssm exists');
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({ KeyId: managed.TargetKeyId }))).Policy!);
    assert.equal(policy.Statement[0].Condition.StringEquals['kms:ViaService'], 'ssm.us-east-1.amazonaws.com');
    kms.destroy();

    // The control value proves the files were read where the rows are; the sealed one is in neither.
    const bytes = sqliteBytes(server.dataDir);
    assert.ok(bytes.includes(clear), 'the String value is in the store files');
    assert.equal(bytes.includes(secret), false, 'the SecureString value is not');
    const events = auditRows(server.dataDir).map((row) => row.body);
    assert.ok(events.some((body) => body.includes('"eventSource":"ssm.amazonaws.com"') && body.includes('PutParameter')));
    for (const body of events) {
      assert.equal(body.includes(secret), false, 'no audit event holds the SecureString value');
      assert.equal(body.includes(clear), false, 'no audit event holds a String value');
    }
  });

  it('uses a customer key only for callers allowed kms:Decrypt on it; the AWS managed key through SSM for all', async () => {
    const kms = server.kms();
    const key = await createKey(kms, { Description: 'ssm customer key' });
    kms.destroy();
    const root = uniquePath('cmk');
    const secret = marker('cmk-value');
    await ssm.send(new PutParameterCommand({ Name: `${root}/cmk`, Value: secret, Type: 'SecureString', KeyId: key.KeyId }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/managed`, Value: 'managed-value', Type: 'SecureString' }));
    const ssmOnly = await createUser(server, server.admin, `ssm-only-${randomBytes(3).toString('hex')}`, {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }] },
    });
    const withDecrypt = await createUser(server, server.admin, `ssm-kms-${randomBytes(3).toString('hex')}`, {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ssm:*', Resource: '*' },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.Arn },
        ],
      },
    });
    const asSsmOnly = ssmClient(server, { credentials: ssmOnly.keys });
    const refused = await refusal(asSsmOnly.send(new GetParameterCommand({ Name: `${root}/cmk`, WithDecryption: true })));
    assert.equal(refused.name, 'AccessDeniedException');
    assert.match(refused.message, /kms:Decrypt/);
    assert.doesNotMatch(refused.message, new RegExp(secret));
    assert.notEqual((await asSsmOnly.send(new GetParameterCommand({ Name: `${root}/cmk` }))).Parameter?.Value, secret);
    assert.equal((await asSsmOnly.send(new GetParameterCommand({ Name: `${root}/managed`, WithDecryption: true }))).Parameter?.Value, 'managed-value');
    const asDecrypter = ssmClient(server, { credentials: withDecrypt.keys });
    assert.equal((await asDecrypter.send(new GetParameterCommand({ Name: `${root}/cmk`, WithDecryption: true }))).Parameter?.Value, secret);
    asSsmOnly.destroy();
    asDecrypter.destroy();
    const invalidKey = await refusal(ssm.send(new PutParameterCommand({ Name: `${root}/bad-key`, Value: 'v', Type: 'SecureString', KeyId: 'alias/does-not-exist' })));
    assert.equal(invalidKey.name, 'InvalidKeyId');
  });

  it('allows a narrow policy exactly its paths, actions and tags', async () => {
    const root = uniquePath('narrow');
    await ssm.send(new PutParameterCommand({ Name: `${root}/app/one`, Value: '1', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/other/two`, Value: '2', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: `${root}/tagged`, Value: '3', Type: 'String', Tags: [{ Key: 'team', Value: 'core' }] }));
    const user = await createUser(server, server.admin, `narrow-${randomBytes(3).toString('hex')}`, {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParametersByPath'], Resource: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${root}/app/*` },
          { Effect: 'Allow', Action: 'ssm:GetParameter', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'core' } } },
        ],
      },
    });
    const narrow = ssmClient(server, { credentials: user.keys as Keys });
    try {
      assert.equal((await narrow.send(new GetParameterCommand({ Name: `${root}/app/one` }))).Parameter?.Value, '1');
      assert.equal((await narrow.send(new GetParameterCommand({ Name: `${root}/tagged` }))).Parameter?.Value, '3');
      const other = await refusal(narrow.send(new GetParameterCommand({ Name: `${root}/other/two` })));
      assert.equal(other.name, 'AccessDeniedException');
      assert.match(other.message, new RegExp(`ssm:GetParameter on resource: arn:aws:ssm:us-east-1:${ACCOUNT}:parameter${root}/other/two`));
      // A refusal for a parameter that does not exist reads the same as for one that does.
      assert.equal((await refusal(narrow.send(new GetParameterCommand({ Name: `${root}/other/none` })))).name, 'AccessDeniedException');
      assert.equal((await refusal(narrow.send(new PutParameterCommand({ Name: `${root}/app/new`, Value: 'x', Type: 'String' })))).name, 'AccessDeniedException');
      assert.equal((await refusal(narrow.send(new DescribeParametersCommand({})))).name, 'AccessDeniedException');
      // The path's own ARN is parameter<root>/app, which parameter<root>/app/* does not cover.
      assert.equal((await refusal(narrow.send(new GetParametersByPathCommand({ Path: `${root}/app` })))).name, 'AccessDeniedException');
      const below = await narrow.send(new GetParametersByPathCommand({ Path: `${root}/app/x` }));
      assert.deepEqual(below.Parameters, []);
    } finally {
      narrow.destroy();
    }
  });
});

describe('SSM SecureString on PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let server: TestServer;

  before(async () => {
    database = await createTestDatabase('ssm_');
    server = await startTestServer({ postgres: { url: database.url, poolSize: 2 } });
  });
  after(async () => {
    await server.cleanup();
    await database.drop();
  });

  it('keeps only the sealed value in the row', async () => {
    const ssm = ssmClient(server);
    const name = uniquePath('pg');
    const secret = marker('pg-secure');
    await ssm.send(new PutParameterCommand({ Name: name, Value: secret, Type: 'SecureString' }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value, secret);
    ssm.destroy();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT value, sealed_value, encrypted_data_key, key_id FROM ssm_parameter_versions WHERE name = $1', [name]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].value, null);
      assert.ok(Buffer.isBuffer(rows[0].sealed_value) && rows[0].sealed_value.length > secret.length);
      assert.equal(rows[0].sealed_value.includes(secret), false);
      assert.equal(rows[0].key_id, 'alias/aws/ssm');
      const { rows: all } = await client.query("SELECT count(*)::int AS n FROM ssm_parameter_versions WHERE position($1 in coalesce(value, '')) > 0", [secret]);
      assert.equal(all[0].n, 0);
    } finally {
      await client.end();
    }
  });
});
