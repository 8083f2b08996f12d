import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  ListKeyPoliciesCommand,
  RevokeGrantCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { withDatabase } from '../../helpers/audit.js';
import { rejectsWith } from '../../helpers/kms.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const ACCOUNT_ID = '000000000000';
const REGION = 'us-east-1';
const ROOT = `arn:aws:iam::${ACCOUNT_ID}:root`;
const SID = 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager';

/**
 * The key policy AWS writes for an account's aws/secretsmanager key, as the Secrets Manager user guide shows it
 * ("Key policy of the AWS managed key (aws/secretsmanager)").
 */
const expectedPolicy = {
  Id: 'auto-secretsmanager-2',
  Version: '2012-10-17',
  Statement: [
    {
      Sid: SID,
      Effect: 'Allow',
      Principal: { AWS: ['*'] },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:DescribeKey'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT_ID, 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
    },
    {
      Sid: SID,
      Effect: 'Allow',
      Principal: { AWS: ['*'] },
      Action: 'kms:GenerateDataKey*',
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNT_ID }, StringLike: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
    },
    {
      Sid: 'Allow direct access to key metadata to the account',
      Effect: 'Allow',
      Principal: { AWS: [ROOT] },
      Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
      Resource: '*',
    },
  ],
};

describe('the key policy of the AWS managed key aws/secretsmanager', () => {
  let server: TestServer;
  let kms: KMSClient;
  let managedKeyId: string;

  before(async () => {
    server = await startTestServer();
    kms = server.kms();
    await secretsClient(server).send(new CreateSecretCommand({ Name: 'managed-policy-probe', SecretString: 'first value' }));
    managedKeyId = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata!.KeyId!;
  });
  after(async () => server.cleanup());

  it('is the policy AWS writes: use only through Secrets Manager from the owning account, metadata for the account', async () => {
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: managedKeyId }));
    assert.deepEqual(JSON.parse(Policy!), expectedPolicy);
    const { PolicyNames } = await kms.send(new ListKeyPoliciesCommand({ KeyId: managedKeyId }));
    assert.deepEqual(PolicyNames, ['default']);
  });

  it('allows the account metadata (Describe*, Get*, List*) but no direct cryptographic use', async () => {
    await kms.send(new DescribeKeyCommand({ KeyId: managedKeyId }));
    const denied = await rejectsWith(kms.send(new EncryptCommand({ KeyId: managedKeyId, Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${ROOT} is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${managedKeyId} because no resource-based policy allows the kms:Encrypt action`,
    );
    await rejectsWith(kms.send(new GenerateDataKeyCommand({ KeyId: 'alias/aws/secretsmanager', KeySpec: 'AES_256' })), 'AccessDeniedException');
    // RevokeGrant is allowed to the account: an unknown grant is then simply not found.
    await rejectsWith(kms.send(new RevokeGrantCommand({ KeyId: managedKeyId, GrantId: '0'.repeat(64) })), 'NotFoundException');
  });

  it('lets Secrets Manager use it for the caller (kms:ViaService)', async () => {
    const secrets = secretsClient(server);
    await secrets.send(new PutSecretValueCommand({ SecretId: 'managed-policy-probe', SecretString: 'second value' }));
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: 'managed-policy-probe' }));
    assert.equal(SecretString, 'second value');
  });
});

describe('migration 7 gives managed keys made before it the AWS managed key policy', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.cleanup());

  it('rewrites the old default policy of aws/secretsmanager keys, and the secrets stay readable', async () => {
    await secretsClient(server).send(new CreateSecretCommand({ Name: 'made-before-migration', SecretString: 'old value' }));
    const dataDir = server.dataDir;
    await server.stop();
    // Put the database back as it was before migration 7: the managed key with the default key policy, no grants table.
    const oldPolicy = JSON.stringify({
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' }],
    });
    withDatabase(dataDir, (db) => {
      db.prepare("UPDATE kms_keys SET policy = ? WHERE key_manager = 'AWS'").run(oldPolicy);
      db.exec('DROP TABLE kms_grants; DELETE FROM schema_migrations WHERE id = 7;');
    });

    server = await startTestServer({ dataDir });
    const kms = server.kms();
    const managedKeyId = (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata!.KeyId!;
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: managedKeyId }));
    assert.deepEqual(JSON.parse(Policy!), expectedPolicy);
    const { SecretString } = await secretsClient(server).send(new GetSecretValueCommand({ SecretId: 'made-before-migration' }));
    assert.equal(SecretString, 'old value');

    // The rewritten text is exactly what a managed key made now carries.
    const otherRegion = secretsClient(server, { region: 'eu-west-1' });
    await otherRegion.send(new CreateSecretCommand({ Name: 'fresh-managed-key', SecretString: 'v' }));
    const euKms = server.kms({ region: 'eu-west-1' });
    const freshKeyId = (await euKms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }))).KeyMetadata!.KeyId!;
    const fresh = await euKms.send(new GetKeyPolicyCommand({ KeyId: freshKeyId }));
    assert.equal(Policy, fresh.Policy!.replaceAll('eu-west-1', REGION));
  });
});
