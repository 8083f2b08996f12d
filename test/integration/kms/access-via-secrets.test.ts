import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createKey, rejectsWith } from '../../helpers/kms.js';
import { createUser } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Secrets Manager calls KMS for the caller (kms:ViaService): the caller's own rights on the key decide, and
 * conditions on kms:ViaService tell those calls apart from direct ones.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
describe('KMS use through Secrets Manager', () => {
  let server: TestServer;
  let admin: KMSClient;

  before(async () => {
    server = await startTestServer();
    admin = server.kms();
  });
  after(async () => server.cleanup());

  const secretsOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] };

  it('a user allowed only Secrets Manager uses the AWS managed key through it, never directly', async () => {
    const user = await createUser(server, server.admin, 'secrets-only-user', { policy: secretsOnly });
    const secrets = secretsClient(server, { credentials: user.keys });
    const name = uniqueSecretName('via-managed-key');
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'first' }));
    await secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'second' }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'second');
    await rejectsWith(
      server.kms({ credentials: user.keys }).send(new GenerateDataKeyCommand({ KeyId: 'alias/aws/secretsmanager', KeySpec: 'AES_256' })),
      'AccessDeniedException',
    );
  });

  it('an identity policy conditioned on kms:ViaService allows the key through Secrets Manager only', async () => {
    const key = await createKey(admin);
    const user = await createUser(server, server.admin, 'via-service-user', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          secretsOnly.Statement[0],
          {
            Effect: 'Allow',
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: key.Arn,
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
          },
        ],
      },
    });
    const secrets = secretsClient(server, { credentials: user.keys });
    const name = uniqueSecretName('via-service');
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'sealed with a customer key', KmsKeyId: key.Arn }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'sealed with a customer key');
    await rejectsWith(server.kms({ credentials: user.keys }).send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256' })), 'AccessDeniedException');
  });

  it('without rights on the secret\'s customer key, Secrets Manager cannot seal for the caller', async () => {
    const key = await createKey(admin);
    const user = await createUser(server, server.admin, 'no-key-rights-user', { policy: secretsOnly });
    const secrets = secretsClient(server, { credentials: user.keys });
    const name = uniqueSecretName('no-key-rights');
    await assert.rejects(
      secrets.send(new CreateSecretCommand({ Name: name, SecretString: 'x', KmsKeyId: key.Arn })),
      (error: Error) => /kms:GenerateDataKey|Access to KMS is not allowed/.test(error.message),
    );
    // The administrator, whom the default key policy and the root's rights allow, can.
    await secretsClient(server).send(new CreateSecretCommand({ Name: name, SecretString: 'x', KmsKeyId: key.Arn }));
  });
});
