import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, ListUsersCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { secretsClient } from '../../helpers/secrets.js';
import { createAccount, createUser, iamClient, type Keys } from '../../helpers/principals.js';

const LIST_SECRETS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] };

/** Users' access keys authenticate as the user, and the user's inline policies decide what it may do. */
describe('IAM users against Secrets Manager and KMS', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
  });
  after(async () => server.cleanup());

  it('a user allowed secretsmanager:ListSecrets can list secrets, but not CreateKey nor CreateSecret', async () => {
    const lister = await createUser(server, root, 'lister', { policy: LIST_SECRETS });
    assert.equal(lister.arn, `arn:aws:iam::${accountId}:user/lister`);
    await secretsClient(server, { credentials: root }).send(new CreateSecretCommand({ Name: 'visible', SecretString: 'v' }));

    const listed = await secretsClient(server, { credentials: lister.keys }).send(new ListSecretsCommand({}));
    assert.deepEqual(listed.SecretList?.map((secret) => secret.Name), ['visible']);

    await assert.rejects(server.kms({ credentials: lister.keys }).send(new CreateKeyCommand({})), (error: Error) => {
      assert.equal(error.name, 'AccessDeniedException');
      assert.match(error.message, new RegExp(`^User: arn:aws:iam::${accountId}:user/lister is not authorized to perform: kms:CreateKey`));
      return true;
    });
    await assert.rejects(secretsClient(server, { credentials: lister.keys }).send(new CreateSecretCommand({ Name: 'x', SecretString: 'x' })), {
      name: 'AccessDeniedException',
    });
  });

  it('a user without a policy is denied with AccessDeniedException naming its ARN and the action', async () => {
    const nobody = await createUser(server, root, 'nobody');
    await assert.rejects(secretsClient(server, { credentials: nobody.keys }).send(new ListSecretsCommand({})), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(
        error.message,
        `User: arn:aws:iam::${accountId}:user/nobody is not authorized to perform: secretsmanager:ListSecrets on resource: * because no identity-based policy allows the secretsmanager:ListSecrets action`,
      );
      assert.equal(error.$metadata?.httpStatusCode, 400);
      return true;
    });
    // A user can't grant itself more: IAM calls are authorized like any other.
    await assert.rejects(iamClient(server, nobody.keys).send(new DeleteAccessKeyCommand({ AccessKeyId: nobody.keys.accessKeyId })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, /is not authorized to perform: iam:DeleteAccessKey/);
      assert.equal(error.$metadata?.httpStatusCode, 403);
      return true;
    });
  });

  it('a deleted or deactivated key stops working', async () => {
    const user = await createUser(server, root, 'short-lived', { policy: LIST_SECRETS });
    const client = secretsClient(server, { credentials: user.keys });
    await client.send(new ListSecretsCommand({}));
    const iam = iamClient(server, root);

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'short-lived', AccessKeyId: user.keys.accessKeyId, Status: 'Inactive' }));
    await assert.rejects(client.send(new ListSecretsCommand({})), { name: 'UnrecognizedClientException' });
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'short-lived', AccessKeyId: user.keys.accessKeyId, Status: 'Active' }));
    await client.send(new ListSecretsCommand({}));

    await iam.send(new DeleteAccessKeyCommand({ UserName: 'short-lived', AccessKeyId: user.keys.accessKeyId }));
    await assert.rejects(client.send(new ListSecretsCommand({})), (error: Error) => {
      assert.equal(error.name, 'UnrecognizedClientException');
      assert.equal(error.message, 'The security token included in the request is invalid.');
      return true;
    });
  });

  it('IAM operations are authorized on the user ARN: a delegated admin manages only users under its path', async () => {
    const admin = await createUser(server, root, 'app-admin', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['iam:CreateUser', 'iam:CreateAccessKey'], Resource: `arn:aws:iam::${accountId}:user/app/*` },
          { Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' },
        ],
      },
    });
    const iam = iamClient(server, admin.keys);
    const created = await iam.send(new CreateUserCommand({ UserName: 'worker', Path: '/app/' }));
    assert.equal(created.User?.Arn, `arn:aws:iam::${accountId}:user/app/worker`);
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'worker' }));
    assert.match(key.AccessKey!.AccessKeyId!, /^AKIA/);
    assert.ok((await iam.send(new ListUsersCommand({ PathPrefix: '/app/' }))).Users?.some((user) => user.UserName === 'worker'));

    await assert.rejects(iam.send(new CreateUserCommand({ UserName: 'outsider' })), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.equal(
        error.message,
        `User: ${admin.arn} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${accountId}:user/outsider because no identity-based policy allows the iam:CreateUser action`,
      );
      return true;
    });
    await assert.rejects(iam.send(new CreateAccessKeyCommand({ UserName: 'app-admin' })), { name: 'AccessDenied' });
  });

  it("another account's root has no access to this account's secrets", async () => {
    const other = await createAccount(server);
    const secret = await secretsClient(server, { credentials: root }).send(new CreateSecretCommand({ Name: 'private', SecretString: 'mine' }));
    await assert.rejects(secretsClient(server, { credentials: other.root }).send(new GetSecretValueCommand({ SecretId: secret.ARN })), (error: Error) =>
      ['AccessDeniedException', 'ResourceNotFoundException'].includes(error.name),
    );
  });
});
