import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createKey } from '../../helpers/kms.js';
import { createAccount, createUser, type Keys } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const OWNER = '000000000000';
const OWNER_ROOT = `arn:aws:iam::${OWNER}:root`;

/**
 * A secret read from another account: the secret's resource policy and the reader's own policy must allow
 * GetSecretValue, and the secret's KMS key must let the reader Decrypt (its key policy naming the reader's
 * account, and the reader's policy allowing kms:Decrypt). The AWS managed key never allows it.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html
 */
describe('a secret read across accounts needs the KMS key too', () => {
  let server: TestServer;
  let admin: KMSClient;
  let ownerSecrets: SecretsManagerClient;
  let reader: { arn: string; keys: Keys };
  let readerWithoutKms: { arn: string; keys: Keys };
  let readerAccount: string;

  before(async () => {
    server = await startTestServer();
    admin = server.kms();
    ownerSecrets = secretsClient(server);
    const other = await createAccount(server);
    readerAccount = other.accountId;
    reader = await createUser(server, other.root, 'secret-reader', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'kms:Decrypt'], Resource: '*' }] },
    });
    readerWithoutKms = await createUser(server, other.root, 'secret-reader-no-kms', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
    });
  });
  after(async () => server.cleanup());

  async function sharedSecret(kmsKeyId: string | undefined): Promise<string> {
    const name = uniqueSecretName('shared');
    const { ARN } = await ownerSecrets.send(new CreateSecretCommand({ Name: name, SecretString: 'shared value', KmsKeyId: kmsKeyId }));
    await ownerSecrets.send(
      new PutResourcePolicyCommand({
        SecretId: ARN,
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: [reader.arn, readerWithoutKms.arn] }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
          ],
        }),
      }),
    );
    return ARN!;
  }

  const read = (keys: Keys, arn: string) => secretsClient(server, { credentials: keys }).send(new GetSecretValueCommand({ SecretId: arn }));

  it('works when the key policy lets the reader\'s account decrypt and the reader may', async () => {
    const key = await createKey(admin, {
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'owner', Effect: 'Allow', Principal: { AWS: OWNER_ROOT }, Action: 'kms:*', Resource: '*' },
          { Sid: 'reader-account', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${readerAccount}:root` }, Action: 'kms:Decrypt', Resource: '*' },
        ],
      }),
    });
    const arn = await sharedSecret(key.Arn);
    assert.equal((await read(reader.keys, arn)).SecretString, 'shared value');
    await assert.rejects(read(readerWithoutKms.keys, arn), (error: Error) => error.name === 'AccessDeniedException');

    // Take the reader's account out of the key policy: the secret's policy alone is not enough.
    await admin.send(
      new PutKeyPolicyCommand({
        KeyId: key.KeyId,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'owner', Effect: 'Allow', Principal: { AWS: OWNER_ROOT }, Action: 'kms:*', Resource: '*' }],
        }),
      }),
    );
    await assert.rejects(read(reader.keys, arn), (error: Error) => error.name === 'AccessDeniedException');
  });

  it('never works for a secret under the AWS managed key aws/secretsmanager', async () => {
    const arn = await sharedSecret(undefined);
    assert.equal((await ownerSecrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString, 'shared value');
    await assert.rejects(read(reader.keys, arn), (error: Error) => error.name === 'AccessDeniedException');
  });
});
