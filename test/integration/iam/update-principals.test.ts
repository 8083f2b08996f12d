import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetRoleCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
  UpdateUserCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';

/** UpdateRole, UpdateRoleDescription, UpdateUser: what changes, what stays, and who may. */
describe('IAM UpdateRole, UpdateRoleDescription and UpdateUser', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
  });
  after(async () => server.cleanup());

  const trust = () => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] });

  it('UpdateRole sets Description and MaxSessionDuration; GetRole shows them and AssumeRole honours the new limit', async () => {
    const iam = iamClient(server, root);
    const role = await createRole(server, root, 'long-sessions', trust());
    // AWS refuses roots AssumeRole: a user of the account allowed sts:AssumeRole assumes it.
    const assumer = await createUser(server, root, 'batch-runner', { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] } });
    const sts = stsClient(server, assumer.keys);
    await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'batch', DurationSeconds: 7200 })), (error: Error) => {
      assert.match(error.message, /exceeds the MaxSessionDuration/);
      return true;
    });
    await iam.send(new UpdateRoleCommand({ RoleName: 'long-sessions', Description: 'batch jobs', MaxSessionDuration: 7200 }));
    const got = (await iam.send(new GetRoleCommand({ RoleName: 'long-sessions' }))).Role!;
    assert.equal(got.Description, 'batch jobs');
    assert.equal(got.MaxSessionDuration, 7200);
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'batch', DurationSeconds: 7200 }));
    const lifetime = assumed.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(lifetime > 7100_000 && lifetime <= 7200_000, `session lasts ${lifetime} ms`);

    // Only what is given changes.
    await iam.send(new UpdateRoleCommand({ RoleName: 'long-sessions', MaxSessionDuration: 3600 }));
    const again = (await iam.send(new GetRoleCommand({ RoleName: 'long-sessions' }))).Role!;
    assert.equal(again.Description, 'batch jobs');
    assert.equal(again.MaxSessionDuration, 3600);
  });

  it('UpdateRole refuses a duration outside 3600..43200 and an unknown role, changing nothing', async () => {
    const iam = iamClient(server, root);
    await createRole(server, root, 'bounded', trust());
    for (const MaxSessionDuration of [3599, 43201]) {
      await assert.rejects(iam.send(new UpdateRoleCommand({ RoleName: 'bounded', MaxSessionDuration })), { name: 'ValidationError' });
    }
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: 'bounded' }))).Role!.MaxSessionDuration, 3600);
    await assert.rejects(iam.send(new UpdateRoleCommand({ RoleName: 'absent-role', Description: 'x' })), {
      name: 'NoSuchEntityException',
      message: 'The role with name absent-role cannot be found.',
    });
  });

  it('UpdateRoleDescription answers the updated role', async () => {
    await createRole(server, root, 'described', trust());
    const answer = await iamClient(server, root).send(new UpdateRoleDescriptionCommand({ RoleName: 'described', Description: 'now described' }));
    assert.equal(answer.Role?.RoleName, 'described');
    assert.equal(answer.Role?.Description, 'now described');
  });

  it('UpdateUser renames and moves a user: its keys, policies and id stay, and the keys act as the new ARN', async () => {
    const iam = iamClient(server, root);
    const listSecrets = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] };
    const user = await createUser(server, root, 'before-rename', { policy: listSecrets });
    const before = (await iam.send(new GetUserCommand({ UserName: 'before-rename' }))).User!;
    await iam.send(new UpdateUserCommand({ UserName: 'before-rename', NewUserName: 'after-rename', NewPath: '/team/' }));
    await assert.rejects(iam.send(new GetUserCommand({ UserName: 'before-rename' })), { name: 'NoSuchEntityException' });
    const after = (await iam.send(new GetUserCommand({ UserName: 'after-rename' }))).User!;
    assert.equal(after.UserId, before.UserId);
    assert.equal(after.Path, '/team/');
    assert.equal(after.Arn, `arn:aws:iam::${accountId}:user/team/after-rename`);
    assert.deepEqual((await iam.send(new ListUserPoliciesCommand({ UserName: 'after-rename' }))).PolicyNames, ['inline']);
    assert.deepEqual((await iam.send(new ListAccessKeysCommand({ UserName: 'after-rename' }))).AccessKeyMetadata?.map((key) => key.AccessKeyId), [user.keys.accessKeyId]);
    const identity = await stsClient(server, user.keys).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, after.Arn);
    await secretsClient(server, { credentials: user.keys }).send(new ListSecretsCommand({}));
  });

  it('UpdateUser: a taken name is EntityAlreadyExists, an unknown user NoSuchEntity; the permission is needed on both ARNs', async () => {
    const iam = iamClient(server, root);
    await createUser(server, root, 'first-user');
    await createUser(server, root, 'second-user');
    await assert.rejects(iam.send(new UpdateUserCommand({ UserName: 'first-user', NewUserName: 'SECOND-user' })), {
      name: 'EntityAlreadyExistsException',
      message: 'User with name SECOND-user already exists.',
    });
    assert.ok((await iam.send(new GetUserCommand({ UserName: 'first-user' }))).User);
    await assert.rejects(iam.send(new UpdateUserCommand({ UserName: 'nobody-here', NewUserName: 'x' })), { name: 'NoSuchEntityException' });

    // Allowed to update users under /ops/ only: may rename within it, not move out of it.
    const operator = await createUser(server, root, 'operator', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:UpdateUser', Resource: `arn:aws:iam::${accountId}:user/ops/*` }] },
    });
    await iam.send(new UpdateUserCommand({ UserName: 'first-user', NewPath: '/ops/' }));
    const operatorIam = iamClient(server, operator.keys);
    await operatorIam.send(new UpdateUserCommand({ UserName: 'first-user', NewUserName: 'renamed-by-operator' }));
    await assert.rejects(operatorIam.send(new UpdateUserCommand({ UserName: 'renamed-by-operator', NewPath: '/elsewhere/' })), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, new RegExp(`on resource: arn:aws:iam::${accountId}:user/elsewhere/renamed-by-operator`));
      return true;
    });
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'renamed-by-operator' }))).User?.Path, '/ops/');
  });
});
