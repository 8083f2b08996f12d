/**
 * Issue 5's cross-account scenario end to end, with real SDK clients: a role of account B reads a secret of
 * account A only when A's resource policy allows it, B's own role policy allows it, and the key policy of the
 * KMS key that seals the secret allows its use. Secrets sealed with A's AWS managed key never leave A.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { assumeRole, createAccount, createRole, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const REGION = 'us-east-1';

function secrets(server: TestServer, credentials: Keys) {
  return new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
}

function iam(server: TestServer, credentials: Keys) {
  return new IAMClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
}

function keyPolicy(ownerAccount: string, reader?: string): string {
  const statements: object[] = [
    { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ownerAccount}:root` }, Action: 'kms:*', Resource: '*' },
  ];
  if (reader) statements.push({ Sid: 'Reader', Effect: 'Allow', Principal: { AWS: reader }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

describe('cross-account secret access', () => {
  let server: TestServer;
  let owner: { accountId: string; root: Keys };
  let reader: { accountId: string; root: Keys };
  let roleArn: string;
  let keyArn: string;
  let secretArn: string;
  let managedKeySecretArn: string;
  let session: Keys;

  const rolePolicy = (allowSecrets: boolean) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        ...(allowSecrets ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] : []),
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' },
      ],
    });
  const readAs = (keys: Keys, secretId: string) => secrets(server, keys).send(new GetSecretValueCommand({ SecretId: secretId }));
  const shareWith = (principal: string) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });

  before(async () => {
    server = await startTestServer();
    owner = await createAccount(server);
    reader = await createAccount(server);
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${reader.accountId}:root` }, Action: 'sts:AssumeRole' }] };
    ({ arn: roleArn } = await createRole(server, reader.root, 'cross-reader', trust, JSON.parse(rolePolicy(true))));
    const key = await server.kms({ credentials: owner.root }).send(new CreateKeyCommand({ Policy: keyPolicy(owner.accountId, roleArn) }));
    keyArn = key.KeyMetadata!.Arn!;
    const ownerSecrets = secrets(server, owner.root);
    secretArn = (await ownerSecrets.send(new CreateSecretCommand({ Name: 'shared/db', SecretString: 'cross-account-value', KmsKeyId: keyArn }))).ARN!;
    managedKeySecretArn = (await ownerSecrets.send(new CreateSecretCommand({ Name: 'shared/managed', SecretString: 'managed-key-value' }))).ARN!;
    session = await assumeRole(server, reader.root, roleArn, 'reading');
  });

  after(async () => {
    await server?.cleanup();
  });

  it('is denied while the secret has no resource policy', async () => {
    await assert.rejects(readAs(session, secretArn), (error: Error) => {
      assert.equal(error.name, 'AccessDeniedException');
      assert.match(error.message, /secretsmanager:GetSecretValue/);
      assert.ok(error.message.includes(secretArn), error.message);
      return true;
    });
  });

  it('is allowed when the resource policy, the role policy and the key policy all allow', async () => {
    await secrets(server, owner.root).send(new PutResourcePolicyCommand({ SecretId: secretArn, ResourcePolicy: shareWith(roleArn) }));
    const value = await readAs(session, secretArn);
    assert.equal(value.SecretString, 'cross-account-value');
    assert.equal(value.ARN, secretArn);
  });

  it('is denied by name: a name or partial ARN stays in the caller’s own account', async () => {
    await assert.rejects(readAs(session, 'shared/db'), { name: 'ResourceNotFoundException' });
  });

  it('is denied when the role’s own policy stops allowing it', async () => {
    await iam(server, reader.root).send(new PutRolePolicyCommand({ RoleName: 'cross-reader', PolicyName: 'inline', PolicyDocument: rolePolicy(false) }));
    try {
      await assert.rejects(readAs(session, secretArn), { name: 'AccessDeniedException' });
    } finally {
      await iam(server, reader.root).send(new PutRolePolicyCommand({ RoleName: 'cross-reader', PolicyName: 'inline', PolicyDocument: rolePolicy(true) }));
    }
    assert.equal((await readAs(session, secretArn)).SecretString, 'cross-account-value');
  });

  it('is denied when the key policy stops allowing the role', async () => {
    const kms = server.kms({ credentials: owner.root });
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: keyPolicy(owner.accountId) }));
    try {
      await assert.rejects(readAs(session, secretArn), { name: 'AccessDeniedException' });
    } finally {
      await kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: keyPolicy(owner.accountId, roleArn) }));
    }
    assert.equal((await readAs(session, secretArn)).SecretString, 'cross-account-value');
  });

  it('never works for a secret sealed with the owner’s AWS managed key', async () => {
    await secrets(server, owner.root).send(new PutResourcePolicyCommand({ SecretId: managedKeySecretArn, ResourcePolicy: shareWith(roleArn) }));
    await assert.rejects(readAs(session, managedKeySecretArn), { name: 'AccessDeniedException' });
  });

  it('does not let the other account’s root in without a policy naming it', async () => {
    await assert.rejects(readAs(reader.root, secretArn), { name: 'AccessDeniedException' });
  });
});
