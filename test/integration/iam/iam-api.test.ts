import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  ListUserTagsCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, iamClient, type Keys } from '../../helpers/principals.js';

const READ_SECRETS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] };
const LAMBDA_TRUST = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };

/** The IAM API through @aws-sdk/client-iam (AWS Query protocol): users, keys, roles and inline policies. */
describe('IAM API with @aws-sdk/client-iam', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
  });
  after(async () => {
    iam.destroy();
    await server.cleanup();
  });

  it('CreateUser returns the user with an AIDA id and its ARN with the path; GetUser and ListUsers find it', async () => {
    const created = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/team/', Tags: [{ Key: 'dept', Value: 'eng & <ops>' }] }));
    assert.equal(created.User?.Arn, `arn:aws:iam::${accountId}:user/team/alice`);
    assert.match(created.User!.UserId!, /^AIDA[A-Z2-7]{17}$/);
    assert.ok(created.User!.CreateDate instanceof Date);
    assert.deepEqual(created.User?.Tags, [{ Key: 'dept', Value: 'eng & <ops>' }]);

    const fetched = await iam.send(new GetUserCommand({ UserName: 'alice' }));
    assert.equal(fetched.User?.UserId, created.User?.UserId);
    const listed = await iam.send(new ListUsersCommand({ PathPrefix: '/team/' }));
    assert.deepEqual(listed.Users?.map((user) => user.UserName), ['alice']);
    assert.equal(listed.IsTruncated, false);
  });

  it('a second CreateUser of the same name (any case) is EntityAlreadyExists; an unknown user is NoSuchEntity (404)', async () => {
    await assert.rejects(iam.send(new CreateUserCommand({ UserName: 'ALICE' })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'EntityAlreadyExistsException');
      assert.equal(error.$metadata?.httpStatusCode, 409);
      return true;
    });
    await assert.rejects(iam.send(new GetUserCommand({ UserName: 'nobody' })), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'NoSuchEntityException');
      assert.equal(error.message, 'The user with name nobody cannot be found.');
      assert.equal(error.$metadata?.httpStatusCode, 404);
      return true;
    });
  });

  it('TagUser merges tags, ListUserTags lists them, UntagUser removes them', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'tagged', Tags: [{ Key: 'a', Value: '1' }] }));
    await iam.send(new TagUserCommand({ UserName: 'tagged', Tags: [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags, [{ Key: 'a', Value: '2' }, { Key: 'b', Value: '3' }]);
    await iam.send(new UntagUserCommand({ UserName: 'tagged', TagKeys: ['a'] }));
    // The SDK sends an empty list as `TagKeys=`: an empty list, not a string.
    await iam.send(new UntagUserCommand({ UserName: 'tagged', TagKeys: [] }));
    await iam.send(new CreateUserCommand({ UserName: 'untagged', Tags: [] }));
    assert.deepEqual((await iam.send(new ListUserTagsCommand({ UserName: 'tagged' }))).Tags, [{ Key: 'b', Value: '3' }]);
  });

  it('a permissions boundary naming a policy that does not exist is refused, and no user is created', async () => {
    await assert.rejects(
      iam.send(new CreateUserCommand({ UserName: 'bounded', PermissionsBoundary: `arn:aws:iam::${accountId}:policy/boundary` })),
      { name: 'NoSuchEntityException' },
    );
    await assert.rejects(iam.send(new GetUserCommand({ UserName: 'bounded' })), { name: 'NoSuchEntityException' });
  });

  it('a bad user name is a ValidationError naming the member', async () => {
    await assert.rejects(iam.send(new CreateUserCommand({ UserName: 'has space' })), (error: Error) => {
      assert.equal(error.name, 'ValidationError');
      assert.match(error.message, /userName/);
      return true;
    });
  });

  it('CreateAccessKey returns the secret once; at most two keys; UpdateAccessKey and DeleteAccessKey', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'keyholder' }));
    const first = await iam.send(new CreateAccessKeyCommand({ UserName: 'keyholder' }));
    assert.match(first.AccessKey!.AccessKeyId!, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(first.AccessKey?.Status, 'Active');
    assert.ok((first.AccessKey?.SecretAccessKey?.length ?? 0) >= 40);
    await iam.send(new CreateAccessKeyCommand({ UserName: 'keyholder' }));
    await assert.rejects(iam.send(new CreateAccessKeyCommand({ UserName: 'keyholder' })), { name: 'LimitExceededException' });

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'keyholder', AccessKeyId: first.AccessKey!.AccessKeyId!, Status: 'Inactive' }));
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'keyholder' }));
    const statuses = Object.fromEntries(listed.AccessKeyMetadata!.map((key) => [key.AccessKeyId, key.Status]));
    assert.equal(statuses[first.AccessKey!.AccessKeyId!], 'Inactive');
    assert.equal(Object.keys(statuses).length, 2);

    await assert.rejects(iam.send(new DeleteUserCommand({ UserName: 'keyholder' })), { name: 'DeleteConflictException' });
    for (const key of listed.AccessKeyMetadata!) {
      await iam.send(new DeleteAccessKeyCommand({ UserName: 'keyholder', AccessKeyId: key.AccessKeyId! }));
    }
    await assert.rejects(iam.send(new DeleteAccessKeyCommand({ UserName: 'keyholder', AccessKeyId: first.AccessKey!.AccessKeyId! })), { name: 'NoSuchEntityException' });
    await iam.send(new DeleteUserCommand({ UserName: 'keyholder' }));
    await assert.rejects(iam.send(new GetUserCommand({ UserName: 'keyholder' })), { name: 'NoSuchEntityException' });
  });

  it('the account root manages its own keys without UserName: at most two, listed and deleted', async () => {
    const listed = await iam.send(new ListAccessKeysCommand({}));
    assert.deepEqual(listed.AccessKeyMetadata?.map((key) => key.AccessKeyId), [root.accessKeyId]);
    const second = await iam.send(new CreateAccessKeyCommand({}));
    assert.equal(second.AccessKey?.UserName, undefined);
    await assert.rejects(iam.send(new CreateAccessKeyCommand({})), { name: 'LimitExceededException' });
    const secondClient = iamClient(server, { accessKeyId: second.AccessKey!.AccessKeyId!, secretAccessKey: second.AccessKey!.SecretAccessKey! });
    try {
      assert.equal((await secondClient.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.length, 2);
      await iam.send(new DeleteAccessKeyCommand({ AccessKeyId: second.AccessKey!.AccessKeyId! }));
      await assert.rejects(secondClient.send(new ListAccessKeysCommand({})), { name: 'InvalidClientTokenId' });
    } finally {
      secondClient.destroy();
    }
  });

  it('user inline policies: Put, Get (URL-encoded document), List, Delete; a policy blocks DeleteUser', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'reader' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify(READ_SECRETS) }));
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'reader', PolicyName: 'read' }));
    assert.equal(got.UserName, 'reader');
    assert.deepEqual(JSON.parse(decodeURIComponent(got.PolicyDocument!)), READ_SECRETS);
    const names = await iam.send(new ListUserPoliciesCommand({ UserName: 'reader' }));
    assert.deepEqual(names.PolicyNames, ['read']);
    await assert.rejects(iam.send(new DeleteUserCommand({ UserName: 'reader' })), (error: Error) => {
      assert.equal(error.name, 'DeleteConflictException');
      assert.equal(error.message, 'Cannot delete entity, must delete policies first.');
      return true;
    });
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'reader', PolicyName: 'read' }));
    await assert.rejects(iam.send(new GetUserPolicyCommand({ UserName: 'reader', PolicyName: 'read' })), (error: Error) => {
      assert.equal(error.name, 'NoSuchEntityException');
      assert.equal(error.message, 'The user policy with name read cannot be found.');
      return true;
    });
    await iam.send(new DeleteUserCommand({ UserName: 'reader' }));
  });

  it('a malformed policy is refused with MalformedPolicyDocument; an identity policy may not name a Principal', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'malformed' }));
    await assert.rejects(
      iam.send(new PutUserPolicyCommand({ UserName: 'malformed', PolicyName: 'p', PolicyDocument: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"' })),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, 'MalformedPolicyDocumentException');
        assert.match(error.message, /^Syntax errors in policy\./);
        assert.equal(error.$metadata?.httpStatusCode, 400);
        return true;
      },
    );
    await assert.rejects(
      iam.send(new PutUserPolicyCommand({ UserName: 'malformed', PolicyName: 'p', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }) })),
      { name: 'MalformedPolicyDocumentException' },
    );
    await assert.rejects(
      iam.send(new PutUserPolicyCommand({ UserName: 'malformed', PolicyName: 'p', PolicyDocument: JSON.stringify(LAMBDA_TRUST) })),
      { name: 'MalformedPolicyDocumentException', message: 'Has prohibited field Principal' },
    );
    const names = await iam.send(new ListUserPoliciesCommand({ UserName: 'malformed' }));
    assert.deepEqual(names.PolicyNames, []);
  });

  it('roles: CreateRole with a trust policy, GetRole, role policies, DeleteRole', async () => {
    const created = await iam.send(new CreateRoleCommand({ RoleName: 'runner', AssumeRolePolicyDocument: JSON.stringify(LAMBDA_TRUST), Description: 'runs things' }));
    assert.equal(created.Role?.Arn, `arn:aws:iam::${accountId}:role/runner`);
    assert.match(created.Role!.RoleId!, /^AROA[A-Z2-7]{17}$/);
    assert.equal(created.Role?.MaxSessionDuration, 3600);
    const fetched = await iam.send(new GetRoleCommand({ RoleName: 'runner' }));
    assert.deepEqual(JSON.parse(decodeURIComponent(fetched.Role!.AssumeRolePolicyDocument!)), LAMBDA_TRUST);
    assert.equal(fetched.Role?.Description, 'runs things');

    await iam.send(new PutRolePolicyCommand({ RoleName: 'runner', PolicyName: 'read', PolicyDocument: JSON.stringify(READ_SECRETS) }));
    const policy = await iam.send(new GetRolePolicyCommand({ RoleName: 'runner', PolicyName: 'read' }));
    assert.equal(policy.RoleName, 'runner');
    assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'runner' }))).PolicyNames, ['read']);
    await assert.rejects(iam.send(new DeleteRoleCommand({ RoleName: 'runner' })), { name: 'DeleteConflictException' });
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'runner', PolicyName: 'read' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'runner' }));
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: 'runner' })), { name: 'NoSuchEntityException', message: 'The role with name runner cannot be found.' });
  });

  it('a trust policy without a principal is refused with MalformedPolicyDocument', async () => {
    await assert.rejects(
      iam.send(new CreateRoleCommand({ RoleName: 'untrusting', AssumeRolePolicyDocument: JSON.stringify(READ_SECRETS) })),
      { name: 'MalformedPolicyDocumentException' },
    );
  });

  it('accounts are separate: another account sees none of these users', async () => {
    const other = await createAccount(server);
    const otherIam = iamClient(server, other.root);
    try {
      const listed = await otherIam.send(new ListUsersCommand({}));
      assert.deepEqual(listed.Users, []);
      await assert.rejects(otherIam.send(new GetUserCommand({ UserName: 'alice' })), { name: 'NoSuchEntityException' });
      await otherIam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'a', Value: 'b' }] })).then(
        () => assert.fail('tagged a user of another account'),
        (error: Error) => assert.equal(error.name, 'NoSuchEntityException'),
      );
    } finally {
      otherIam.destroy();
    }
  });
});
