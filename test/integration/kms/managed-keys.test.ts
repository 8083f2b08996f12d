import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GetKeyPolicyCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { rejectsWith } from '../../helpers/kms.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

describe('AWS managed key alias/aws/secretsmanager', () => {
  let server: TestServer;
  let kms: KMSClient;
  let managedKeyId: string;

  before(async () => {
    server = await startTestServer();
    kms = server.kms();
    // The first secret without a KmsKeyId creates the account's managed key.
    await secretsClient(server).send(new CreateSecretCommand({ Name: 'managed-key-probe', SecretString: 'probe-value' }));
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/secretsmanager' }));
    managedKeyId = KeyMetadata!.KeyId!;
  });
  after(async () => server.cleanup());

  it('is created on first use and described as AWS managed', async () => {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: managedKeyId }));
    assert.equal(KeyMetadata?.KeyManager, 'AWS');
    assert.equal(KeyMetadata?.KeyState, 'Enabled');
    assert.match(KeyMetadata?.Description ?? '', /Secrets Manager/);
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: managedKeyId }));
    assert.ok(JSON.parse(Policy!).Statement);
  });

  it('refuses management by the customer with AccessDeniedException naming action and key', async () => {
    const denied = await rejectsWith(kms.send(new ScheduleKeyDeletionCommand({ KeyId: managedKeyId, PendingWindowInDays: 7 })), 'AccessDeniedException');
    assert.match(denied.message, /kms:ScheduleKeyDeletion/);
    assert.match(denied.message, new RegExp(managedKeyId));
    await rejectsWith(kms.send(new DisableKeyCommand({ KeyId: managedKeyId })), 'AccessDeniedException');
    await rejectsWith(kms.send(new PutKeyPolicyCommand({ KeyId: managedKeyId, Policy: '{"Statement":[]}' })), 'AccessDeniedException');
    await rejectsWith(kms.send(new TagResourceCommand({ KeyId: managedKeyId, Tags: [{ TagKey: 'a', TagValue: 'b' }] })), 'AccessDeniedException');
    await rejectsWith(kms.send(new CreateAliasCommand({ AliasName: 'alias/mine', TargetKeyId: managedKeyId })), 'AccessDeniedException');
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: managedKeyId }));
    assert.equal(KeyMetadata?.KeyState, 'Enabled', 'nothing changed');
  });

  it('refuses direct cryptographic use, while Secrets Manager keeps using it', async () => {
    await rejectsWith(kms.send(new EncryptCommand({ KeyId: 'alias/aws/secretsmanager', Plaintext: Buffer.from('x') })), 'AccessDeniedException');
    const value = await secretsClient(server).send(new GetSecretValueCommand({ SecretId: 'managed-key-probe' }));
    assert.equal(value.SecretString, 'probe-value');
  });
});
