import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, type KeyMetadata, type KMSClient } from '@aws-sdk/client-kms';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createKey, rejectsWith, uniqueAliasName } from '../../helpers/kms.js';
import { secretArnPattern, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

let server: TestServer;
let sm: SecretsManagerClient;
let kms: KMSClient;
/** Whether alias/aws/secretsmanager existed before this file created its first secret. */
let defaultAliasBeforeFirstUse: string;

before(async () => {
  server = await startTestServer();
  sm = secretsClient(server);
  kms = server.kms();
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }));
    defaultAliasBeforeFirstUse = 'found';
  } catch (error) {
    defaultAliasBeforeFirstUse = (error as Error).name;
  }
});
after(async () => server.cleanup());

async function getValue(secretId: string, extra: { VersionId?: string; VersionStage?: string } = {}) {
  return sm.send(new GetSecretValueCommand({ SecretId: secretId, ...extra }));
}

describe('CreateSecret', () => {
  it('stores a SecretString that GetSecretValue returns as AWSCURRENT, with an ARN of the AWS shape', async () => {
    const name = uniqueSecretName('prod/db/mysql');
    const value = '{"username":"admin","password":"P@ssw0rd2024","port":3306}';
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    assert.match(created.ARN!, secretArnPattern(name));
    assert.equal(created.Name, name);
    assert.match(created.VersionId!, /^[0-9a-f-]{36}$/);

    const got = await getValue(name);
    assert.equal(got.SecretString, value);
    assert.equal(got.SecretBinary, undefined);
    assert.equal(got.ARN, created.ARN);
    assert.equal(got.Name, name);
    assert.equal(got.VersionId, created.VersionId);
    assert.deepEqual(got.VersionStages, ['AWSCURRENT']);
    assert.ok(got.CreatedDate instanceof Date && Math.abs(got.CreatedDate.getTime() - Date.now()) < 60_000);
  });

  it('stores a SecretBinary that comes back byte for byte, without a SecretString', async () => {
    const name = uniqueSecretName('binary');
    const bytes = randomBytes(300);
    await sm.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
    const got = await getValue(name);
    assert.equal(got.SecretString, undefined);
    assert.equal(Buffer.from(got.SecretBinary!).toString('hex'), bytes.toString('hex'));
  });

  it('without a value creates the secret with no version: GetSecretValue is ResourceNotFoundException', async () => {
    const name = uniqueSecretName('empty');
    const created = await sm.send(new CreateSecretCommand({ Name: name, Description: 'nothing yet' }));
    assert.equal(created.VersionId, undefined);
    const error = await rejectsWith(getValue(name), 'ResourceNotFoundException');
    assert.match(error.message, /AWSCURRENT/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.Description, 'nothing yet');
    assert.equal(described.VersionIdsToStages, undefined);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    assert.deepEqual(versions.Versions, []);
  });

  it('keeps the Description and Tags, which DescribeSecret returns', async () => {
    const name = uniqueSecretName('described');
    await sm.send(
      new CreateSecretCommand({
        Name: name,
        Description: 'Production MySQL credentials',
        SecretString: 'x',
        Tags: [
          { Key: 'purpose', Value: 'testing' },
          { Key: 'Environment', Value: 'Production' },
        ],
      }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.Description, 'Production MySQL credentials');
    const tags = [...(described.Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));
    assert.deepEqual(tags, [
      { Key: 'Environment', Value: 'Production' },
      { Key: 'purpose', Value: 'testing' },
    ]);
  });

  it('refuses SecretString and SecretBinary together with InvalidParameterException', async () => {
    const name = uniqueSecretName('both');
    await rejectsWith(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'a', SecretBinary: Buffer.from('b') })), 'InvalidParameterException');
    await rejectsWith(sm.send(new DescribeSecretCommand({ SecretId: name })), 'ResourceNotFoundException');
  });

  it('refuses names with characters outside letters, digits and /_+=.@- with ValidationException', async () => {
    for (const name of ['has space', 'semi;colon', 'hash#tag', 'star*', 'pipe|x', 'ümlaut']) {
      const error = await rejectsWith(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' })), 'ValidationException');
      assert.match(error.message, /Invalid name/);
    }
    const allowed = `a/b_c+d=e.f@g-h${randomBytes(3).toString('hex')}`;
    const created = await sm.send(new CreateSecretCommand({ Name: allowed, SecretString: 'ok' }));
    assert.equal(created.Name, allowed);
  });

  it('refuses a 513-character name with ValidationException and accepts 512', async () => {
    const error = await rejectsWith(sm.send(new CreateSecretCommand({ Name: 'n'.repeat(513), SecretString: 'x' })), 'ValidationException');
    assert.match(error.message, /name/);
    const name512 = randomBytes(8).toString('hex') + 'n'.repeat(512 - 16);
    const created = await sm.send(new CreateSecretCommand({ Name: name512, SecretString: 'x' }));
    assert.equal(created.Name, name512);
  });

  it('refuses a value over 65536 bytes with ValidationException and accepts exactly 65536', async () => {
    await rejectsWith(sm.send(new CreateSecretCommand({ Name: uniqueSecretName('big'), SecretString: 'v'.repeat(65537) })), 'ValidationException');
    await rejectsWith(sm.send(new CreateSecretCommand({ Name: uniqueSecretName('big'), SecretBinary: Buffer.alloc(65537, 1) })), 'ValidationException');
    // 40,000 two-byte characters: within the character limit, over the byte limit.
    await rejectsWith(sm.send(new CreateSecretCommand({ Name: uniqueSecretName('big'), SecretString: 'é'.repeat(40000) })), 'ValidationException');
    const name = uniqueSecretName('max');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v'.repeat(65536) }));
    assert.equal((await getValue(name)).SecretString?.length, 65536);
  });

  it('refuses a second secret with the same name with ResourceExistsException', async () => {
    const name = uniqueSecretName('dup');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
    const error = await rejectsWith(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'second' })), 'ResourceExistsException');
    assert.match(error.message, new RegExp(`secret ${name} already exists`));
    assert.equal((await getValue(name)).SecretString, 'first');
  });

  it('is idempotent for the same ClientRequestToken and value, and refuses another value under that token', async () => {
    const name = uniqueSecretName('idem');
    const token = randomUUID();
    const first = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'same', ClientRequestToken: token }));
    const again = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'same', ClientRequestToken: token }));
    assert.equal(first.VersionId, token);
    assert.equal(again.VersionId, token);
    assert.equal(again.ARN, first.ARN);
    await rejectsWith(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'different', ClientRequestToken: token })), 'ResourceExistsException');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    assert.deepEqual(versions.Versions?.map((version) => version.VersionId), [token]);
    assert.equal((await getValue(name)).SecretString, 'same');
  });
});

describe('GetSecretValue', () => {
  let name: string;
  let arn: string;
  let firstVersion: string;
  let secondVersion: string;

  before(async () => {
    name = uniqueSecretName('lookup');
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));
    arn = created.ARN!;
    firstVersion = created.VersionId!;
    secondVersion = (await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'two' }))).VersionId!;
  });

  it('finds the secret by name, full ARN and partial ARN (without the six random characters)', async () => {
    const partial = arn.slice(0, -7);
    assert.ok(partial.endsWith(`:secret:${name}`));
    for (const secretId of [name, arn, partial]) {
      const got = await getValue(secretId);
      assert.equal(got.SecretString, 'two', secretId);
      assert.equal(got.ARN, arn);
    }
  });

  it('returns an older version by VersionId and the previous one by VersionStage AWSPREVIOUS', async () => {
    const byId = await getValue(name, { VersionId: firstVersion });
    assert.equal(byId.SecretString, 'one');
    assert.deepEqual(byId.VersionStages, ['AWSPREVIOUS']);
    const previous = await getValue(name, { VersionStage: 'AWSPREVIOUS' });
    assert.equal(previous.VersionId, firstVersion);
    assert.equal(previous.SecretString, 'one');
    const current = await getValue(name, { VersionStage: 'AWSCURRENT' });
    assert.equal(current.VersionId, secondVersion);
    assert.equal(current.SecretString, 'two');
  });

  it('answers ResourceNotFoundException for an unknown secret, ARN, version id or staging label', async () => {
    const missing = await rejectsWith(getValue(uniqueSecretName('missing')), 'ResourceNotFoundException');
    assert.equal(missing.message, "Secrets Manager can't find the specified secret.");
    await rejectsWith(getValue(`${arn.slice(0, -6)}zzzzzz`), 'ResourceNotFoundException');
    // Another account's ARN is looked up there (cross-account access); without a resource policy there that
    // lets this account in, the answer is AccessDenied whether or not such a secret exists.
    await rejectsWith(getValue(arn.replace('000000000000', '111111111111')), 'AccessDeniedException');
    await rejectsWith(getValue(name, { VersionId: randomUUID() }), 'ResourceNotFoundException');
    await rejectsWith(getValue(name, { VersionStage: 'NOSUCHLABEL' }), 'ResourceNotFoundException');
  });

  it('refuses a VersionId and a VersionStage that name different versions', async () => {
    await rejectsWith(getValue(name, { VersionId: firstVersion, VersionStage: 'AWSCURRENT' }), 'InvalidRequestException');
    assert.equal((await getValue(name, { VersionId: secondVersion, VersionStage: 'AWSCURRENT' })).SecretString, 'two');
  });
});

describe('CreateSecret with the default and customer KMS keys', () => {
  let key: KeyMetadata;
  let aliasName: string;

  before(async () => {
    key = await createKey(kms, { Description: 'secrets key' });
    aliasName = uniqueAliasName('secrets');
    await kms.send(new CreateAliasCommand({ AliasName: aliasName, TargetKeyId: key.KeyId }));
  });

  it('creates alias/aws/secretsmanager, an AWS managed key, on first use', async () => {
    assert.equal(defaultAliasBeforeFirstUse, 'NotFoundException');
    // Earlier tests in this file created secrets without a KmsKeyId.
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }));
    assert.equal(KeyMetadata?.KeyManager, 'AWS');
    assert.equal(KeyMetadata?.KeyState, 'Enabled');
    const name = uniqueSecretName('default-key');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    // AWS lists versions under the default key as "DefaultEncryptionKey", not by the key's ARN.
    assert.deepEqual(versions.Versions?.[0]?.KmsKeyIds, ['DefaultEncryptionKey']);
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, undefined);
  });

  it('seals with a customer key named by key id, key ARN or alias', async () => {
    for (const keyId of [key.KeyId!, key.Arn!, aliasName]) {
      const name = uniqueSecretName('cmk');
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: `sealed with ${keyId}`, KmsKeyId: keyId }));
      assert.equal((await getValue(name)).SecretString, `sealed with ${keyId}`);
      const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
      assert.deepEqual(versions.Versions?.[0]?.KmsKeyIds, [key.Arn]);
      assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).KmsKeyId, keyId);
    }
  });

  it('refuses a KmsKeyId that names no key, creating nothing', async () => {
    const name = uniqueSecretName('nokey');
    await rejectsWith(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', KmsKeyId: randomUUID() })),
      'EncryptionFailure',
    );
    await rejectsWith(sm.send(new DescribeSecretCommand({ SecretId: name })), 'ResourceNotFoundException');
  });

  it('fails reads with DecryptionFailure and writes with EncryptionFailure while the key is disabled, and works again once enabled', async () => {
    const dedicated = await createKey(kms);
    const name = uniqueSecretName('disabled-key');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'before', KmsKeyId: dedicated.KeyId }));

    await kms.send(new DisableKeyCommand({ KeyId: dedicated.KeyId }));
    await rejectsWith(getValue(name), 'DecryptionFailure');
    await rejectsWith(sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'during' })), 'EncryptionFailure');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    assert.equal(versions.Versions?.length, 1, 'a failed write leaves no version behind');

    await kms.send(new EnableKeyCommand({ KeyId: dedicated.KeyId }));
    assert.equal((await getValue(name)).SecretString, 'before');
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'after' }));
    assert.equal((await getValue(name)).SecretString, 'after');
    assert.equal((await getValue(name, { VersionStage: 'AWSPREVIOUS' })).SecretString, 'before');
  });
});
