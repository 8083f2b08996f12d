import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  CreateGroupCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteGroupCommand,
  DeleteGroupPolicyCommand,
  DeleteUserCommand,
  GetGroupCommand,
  GetGroupPolicyCommand,
  ListGroupPoliciesCommand,
  ListGroupsCommand,
  ListGroupsForUserCommand,
  PutGroupPolicyCommand,
  RemoveUserFromGroupCommand,
  UpdateGroupCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { runPythonOk } from '../../helpers/python.js';
import { createTestDatabase } from '../../helpers/postgres-store.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { assumeRole, createAccount, createRole, createUser, iamClient, type Keys } from '../../helpers/principals.js';

type AwsError = Error & { $metadata?: { httpStatusCode?: number } };

/** Asserts the call fails with IAM's error code (the SDK appends "Exception" to some), HTTP status and message. */
async function rejectsWith(call: Promise<unknown>, name: string, status: number, message?: string | RegExp): Promise<void> {
  await assert.rejects(call, (error: AwsError) => {
    assert.equal(error.name, name);
    assert.equal(error.$metadata?.httpStatusCode, status);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  });
}

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * IAM groups through @aws-sdk/client-iam, the AWS CLI and boto3: a group's inline policies decide what its
 * members may do from their next request on, the API's errors and limits, paging, and that a group is never a
 * principal.
 */
describe('IAM groups', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let rootSecrets: SecretsManagerClient;
  let workDir: string;

  const secretArn = (pattern: string) => `arn:aws:secretsmanager:us-east-1:${accountId}:secret:${pattern}`;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
    rootSecrets = secretsClient(server, { credentials: root });
    await rootSecrets.send(new CreateSecretCommand({ Name: 'a/one', SecretString: 'in-a' }));
    await rootSecrets.send(new CreateSecretCommand({ Name: 'b/one', SecretString: 'in-b' }));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-iam-groups-'));
  });
  after(async () => {
    iam.destroy();
    rootSecrets.destroy();
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  describe('evaluation', () => {
    it("a member reads what its group's policy allows (a/*, not b/*), and is refused on the next request once removed", async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'a-readers' }));
      await iam.send(
        new PutGroupPolicyCommand({
          GroupName: 'a-readers',
          PolicyName: 'read-a',
          PolicyDocument: policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn('a/*') }),
        }),
      );
      const reader = await createUser(server, root, 'group-reader');
      const client = secretsClient(server, { credentials: reader.keys });
      try {
        await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/one' })), 'AccessDeniedException', 400);

        await iam.send(new AddUserToGroupCommand({ GroupName: 'a-readers', UserName: 'group-reader' }));
        assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'in-a');
        await rejectsWith(
          client.send(new GetSecretValueCommand({ SecretId: 'b/one' })),
          'AccessDeniedException',
          400,
          new RegExp(`^User: ${reader.arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: b/one because no identity-based policy allows`),
        );

        await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'a-readers', UserName: 'group-reader' }));
        await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/one' })), 'AccessDeniedException', 400);
      } finally {
        client.destroy();
      }
    });

    it("a Deny in a group's policy beats an Allow in the user's own policy", async () => {
      const user = await createUser(server, root, 'denied-member', {
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] },
      });
      await iam.send(new CreateGroupCommand({ GroupName: 'no-b' }));
      await iam.send(
        new PutGroupPolicyCommand({
          GroupName: 'no-b',
          PolicyName: 'deny-b',
          PolicyDocument: policy({ Effect: 'Deny', Action: 'secretsmanager:*', Resource: secretArn('b/*') }),
        }),
      );
      const client = secretsClient(server, { credentials: user.keys });
      try {
        assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'b/one' }))).SecretString, 'in-b');
        await iam.send(new AddUserToGroupCommand({ GroupName: 'no-b', UserName: 'denied-member' }));
        await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'b/one' })), 'AccessDeniedException', 400, /with an explicit deny in an identity-based policy/);
        assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'in-a');
      } finally {
        client.destroy();
      }
    });

    it('group policies never reach a role session, not even of a role named like a member', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'everything' }));
      await iam.send(
        new PutGroupPolicyCommand({ GroupName: 'everything', PolicyName: 'all', PolicyDocument: policy({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }) }),
      );
      await createUser(server, root, 'twin');
      await iam.send(new AddUserToGroupCommand({ GroupName: 'everything', UserName: 'twin' }));
      const role = await createRole(server, root, 'twin', {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }],
      });
      const session = await assumeRole(server, root, role.arn);
      const client = secretsClient(server, { credentials: session });
      try {
        await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/one' })), 'AccessDeniedException', 400, /assumed-role\/twin\//);
      } finally {
        client.destroy();
      }
    });
  });

  describe('the API', () => {
    it('CreateGroup returns the group (AGPA id, ARN with the path); GetGroup, ListGroups and ListGroupsForUser find it', async () => {
      const created = await iam.send(new CreateGroupCommand({ GroupName: 'Platform', Path: '/eng/' }));
      assert.equal(created.Group?.Arn, `arn:aws:iam::${accountId}:group/eng/Platform`);
      assert.match(created.Group!.GroupId!, /^AGPA[A-Z2-7]{17}$/);
      assert.equal(created.Group?.Path, '/eng/');
      assert.ok(created.Group!.CreateDate instanceof Date);

      await iam.send(new CreateUserCommand({ UserName: 'pat' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'platform', UserName: 'PAT' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'Platform', UserName: 'pat' }));
      const fetched = await iam.send(new GetGroupCommand({ GroupName: 'Platform' }));
      assert.deepEqual(fetched.Group, created.Group);
      assert.deepEqual(fetched.Users?.map((user) => user.UserName), ['pat']);
      assert.match(fetched.Users![0]!.UserId!, /^AIDA/);
      assert.equal(fetched.IsTruncated, false);

      assert.deepEqual((await iam.send(new ListGroupsCommand({ PathPrefix: '/eng/' }))).Groups?.map((group) => group.GroupName), ['Platform']);
      assert.deepEqual((await iam.send(new ListGroupsForUserCommand({ UserName: 'pat' }))).Groups?.map((group) => group.Arn), [created.Group!.Arn]);
    });

    it('names: taken in any case is EntityAlreadyExists; bad names are ValidationError; unknown ones NoSuchEntity', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'Unique' }));
      await rejectsWith(iam.send(new CreateGroupCommand({ GroupName: 'UNIQUE' })), 'EntityAlreadyExistsException', 409, 'Group with name UNIQUE already exists.');
      await rejectsWith(iam.send(new CreateGroupCommand({ GroupName: 'has space' })), 'ValidationError', 400, /groupName/);
      await rejectsWith(iam.send(new CreateGroupCommand({ GroupName: 'x'.repeat(129) })), 'ValidationError', 400, /groupName/);
      await rejectsWith(iam.send(new CreateGroupCommand({ GroupName: 'pathless', Path: 'no-slashes' })), 'ValidationError', 400, /path/);
      // 128 characters is the longest name IAM allows.
      assert.equal((await iam.send(new CreateGroupCommand({ GroupName: 'g'.repeat(128) }))).Group?.GroupName, 'g'.repeat(128));

      await rejectsWith(iam.send(new GetGroupCommand({ GroupName: 'nothing' })), 'NoSuchEntityException', 404, 'The group with name nothing cannot be found.');
      await rejectsWith(iam.send(new DeleteGroupCommand({ GroupName: 'nothing' })), 'NoSuchEntityException', 404);
      await rejectsWith(iam.send(new UpdateGroupCommand({ GroupName: 'nothing', NewGroupName: 'x' })), 'NoSuchEntityException', 404);
      await rejectsWith(iam.send(new AddUserToGroupCommand({ GroupName: 'nothing', UserName: 'pat' })), 'NoSuchEntityException', 404, /group with name nothing/);
      await rejectsWith(iam.send(new AddUserToGroupCommand({ GroupName: 'Unique', UserName: 'nobody' })), 'NoSuchEntityException', 404, 'The user with name nobody cannot be found.');
      await rejectsWith(iam.send(new ListGroupsForUserCommand({ UserName: 'nobody' })), 'NoSuchEntityException', 404);
      await rejectsWith(iam.send(new ListGroupPoliciesCommand({ GroupName: 'nothing' })), 'NoSuchEntityException', 404);
      await rejectsWith(iam.send(new RemoveUserFromGroupCommand({ GroupName: 'Unique', UserName: 'pat' })), 'NoSuchEntityException', 404, /not in group/);
    });

    it('group inline policies: Put validates, Get returns the URL-encoded document, List pages, Delete removes', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'with-policies' }));
      const document = policy({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' });
      await iam.send(new PutGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'list', PolicyDocument: document }));
      await iam.send(new PutGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'second', PolicyDocument: document }));
      const fetched = await iam.send(new GetGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'list' }));
      assert.equal(fetched.GroupName, 'with-policies');
      assert.equal(fetched.PolicyName, 'list');
      assert.equal(fetched.PolicyDocument, encodeURIComponent(document));

      const first = await iam.send(new ListGroupPoliciesCommand({ GroupName: 'with-policies', MaxItems: 1 }));
      assert.deepEqual(first.PolicyNames, ['list']);
      assert.equal(first.IsTruncated, true);
      const second = await iam.send(new ListGroupPoliciesCommand({ GroupName: 'with-policies', Marker: first.Marker }));
      assert.deepEqual(second.PolicyNames, ['second']);
      assert.equal(second.IsTruncated, false);

      await rejectsWith(
        iam.send(new PutGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'bad', PolicyDocument: '{"Statement": "nope"' })),
        'MalformedPolicyDocumentException',
        400,
      );
      await rejectsWith(
        iam.send(
          new PutGroupPolicyCommand({
            GroupName: 'with-policies',
            PolicyName: 'principal',
            PolicyDocument: policy({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:ListSecrets', Resource: '*' }),
          }),
        ),
        'MalformedPolicyDocumentException',
        400,
        /Principal/,
      );
      await rejectsWith(iam.send(new PutGroupPolicyCommand({ GroupName: 'nothing', PolicyName: 'p', PolicyDocument: document })), 'NoSuchEntityException', 404);
      await rejectsWith(
        iam.send(new GetGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'absent' })),
        'NoSuchEntityException',
        404,
        'The group policy with name absent cannot be found.',
      );
      await rejectsWith(iam.send(new DeleteGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'absent' })), 'NoSuchEntityException', 404);
      await iam.send(new DeleteGroupPolicyCommand({ GroupName: 'with-policies', PolicyName: 'second' }));
      assert.deepEqual((await iam.send(new ListGroupPoliciesCommand({ GroupName: 'with-policies' }))).PolicyNames, ['list']);
    });

    it('DeleteGroup conflicts while members or policies remain; DeleteUser conflicts while the user is in a group', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'sticky' }));
      await iam.send(new CreateUserCommand({ UserName: 'sticky-member' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'sticky', UserName: 'sticky-member' }));
      await iam.send(new PutGroupPolicyCommand({ GroupName: 'sticky', PolicyName: 'p', PolicyDocument: policy({ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }) }));

      await rejectsWith(iam.send(new DeleteGroupCommand({ GroupName: 'sticky' })), 'DeleteConflictException', 409, 'Cannot delete entity, must remove users from group first.');
      await rejectsWith(iam.send(new DeleteUserCommand({ UserName: 'sticky-member' })), 'DeleteConflictException', 409, /must remove user from all groups first/);
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'sticky', UserName: 'sticky-member' }));
      await rejectsWith(iam.send(new DeleteGroupCommand({ GroupName: 'sticky' })), 'DeleteConflictException', 409, 'Cannot delete entity, must delete policies first.');
      await iam.send(new DeleteGroupPolicyCommand({ GroupName: 'sticky', PolicyName: 'p' }));
      await iam.send(new DeleteGroupCommand({ GroupName: 'sticky' }));
      await iam.send(new DeleteUserCommand({ UserName: 'sticky-member' }));
      await rejectsWith(iam.send(new GetGroupCommand({ GroupName: 'sticky' })), 'NoSuchEntityException', 404);
    });

    it('a user is in at most 10 groups (LimitExceeded); adding a member again changes nothing', async () => {
      await iam.send(new CreateUserCommand({ UserName: 'joiner' }));
      for (let index = 1; index <= 11; index += 1) await iam.send(new CreateGroupCommand({ GroupName: `club-${index}` }));
      for (let index = 1; index <= 10; index += 1) await iam.send(new AddUserToGroupCommand({ GroupName: `club-${index}`, UserName: 'joiner' }));
      await iam.send(new AddUserToGroupCommand({ GroupName: 'club-1', UserName: 'joiner' }));
      await rejectsWith(iam.send(new AddUserToGroupCommand({ GroupName: 'club-11', UserName: 'joiner' })), 'LimitExceededException', 409, /GroupsPerUser: 10/);
      const groups = await iam.send(new ListGroupsForUserCommand({ UserName: 'joiner', MaxItems: 1000 }));
      assert.equal(groups.Groups?.length, 10);
      assert.ok(!groups.Groups?.some((group) => group.GroupName === 'club-11'));
    });

    it('an account has at most 300 groups (LimitExceeded)', async () => {
      const other = await createAccount(server);
      const client = iamClient(server, other.root);
      try {
        for (let start = 0; start < 300; start += 50) {
          await Promise.all(Array.from({ length: 50 }, (_, offset) => client.send(new CreateGroupCommand({ GroupName: `g${start + offset}` }))));
        }
        await rejectsWith(client.send(new CreateGroupCommand({ GroupName: 'one-too-many' })), 'LimitExceededException', 409, /GroupsPerAccount: 300/);
        await client.send(new DeleteGroupCommand({ GroupName: 'g0' }));
        await client.send(new CreateGroupCommand({ GroupName: 'one-too-many' }));
      } finally {
        client.destroy();
      }
    });

    it('GetGroup pages its members and ListGroups its groups with Marker and MaxItems', async () => {
      const other = await createAccount(server);
      const client = iamClient(server, other.root);
      try {
        await client.send(new CreateGroupCommand({ GroupName: 'crowd' }));
        const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
        for (const name of names) {
          await client.send(new CreateUserCommand({ UserName: name }));
          await client.send(new AddUserToGroupCommand({ GroupName: 'crowd', UserName: name }));
        }
        const seen: string[] = [];
        let marker: string | undefined;
        let pages = 0;
        do {
          const page = await client.send(new GetGroupCommand({ GroupName: 'crowd', MaxItems: 2, Marker: marker }));
          assert.equal(page.Group?.GroupName, 'crowd');
          seen.push(...page.Users!.map((user) => user.UserName!));
          marker = page.IsTruncated ? page.Marker : undefined;
          pages += 1;
        } while (marker);
        assert.deepEqual(seen, names);
        assert.equal(pages, 3);

        for (const name of ['c1', 'c2']) await client.send(new CreateGroupCommand({ GroupName: name }));
        const first = await client.send(new ListGroupsCommand({ MaxItems: 2 }));
        assert.deepEqual(first.Groups?.map((group) => group.GroupName), ['c1', 'c2']);
        assert.equal(first.IsTruncated, true);
        const rest = await client.send(new ListGroupsCommand({ MaxItems: 2, Marker: first.Marker }));
        assert.deepEqual(rest.Groups?.map((group) => group.GroupName), ['crowd']);
        assert.equal(rest.IsTruncated, false);
        await rejectsWith(client.send(new ListGroupsCommand({ Marker: 'not-a-marker' })), 'InvalidInputException', 400);
      } finally {
        client.destroy();
      }
    });

    it('UpdateGroup renames and moves a group, keeping its members and policies; a taken name is EntityAlreadyExists', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'old-name' }));
      await iam.send(new CreateGroupCommand({ GroupName: 'taken' }));
      const member = await createUser(server, root, 'renamed-member');
      await iam.send(new AddUserToGroupCommand({ GroupName: 'old-name', UserName: 'renamed-member' }));
      await iam.send(
        new PutGroupPolicyCommand({
          GroupName: 'old-name',
          PolicyName: 'read-a',
          PolicyDocument: policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn('a/*') }),
        }),
      );
      await rejectsWith(iam.send(new UpdateGroupCommand({ GroupName: 'old-name', NewGroupName: 'TAKEN' })), 'EntityAlreadyExistsException', 409);

      await iam.send(new UpdateGroupCommand({ GroupName: 'old-name', NewGroupName: 'new-name', NewPath: '/moved/' }));
      await rejectsWith(iam.send(new GetGroupCommand({ GroupName: 'old-name' })), 'NoSuchEntityException', 404);
      const renamed = await iam.send(new GetGroupCommand({ GroupName: 'new-name' }));
      assert.equal(renamed.Group?.Arn, `arn:aws:iam::${accountId}:group/moved/new-name`);
      assert.equal(renamed.Group?.Path, '/moved/');
      assert.deepEqual(renamed.Users?.map((user) => user.UserName), ['renamed-member']);
      assert.deepEqual((await iam.send(new ListGroupPoliciesCommand({ GroupName: 'new-name' }))).PolicyNames, ['read-a']);
      const client = secretsClient(server, { credentials: member.keys });
      try {
        assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'in-a');
      } finally {
        client.destroy();
      }
    });
  });

  describe('resource-level authorization', () => {
    it('iam:<Operation> is checked on the group ARN: a delegated admin manages only groups under /team/', async () => {
      await iam.send(new CreateGroupCommand({ GroupName: 'outside' }));
      await iam.send(new CreateUserCommand({ UserName: 'recruit' }));
      const admin = await createUser(server, root, 'team-admin', {
        policy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['iam:CreateGroup', 'iam:GetGroup', 'iam:AddUserToGroup', 'iam:RemoveUserFromGroup', 'iam:UpdateGroup', 'iam:PutGroupPolicy'],
              Resource: `arn:aws:iam::${accountId}:group/team/*`,
            },
            { Effect: 'Allow', Action: 'iam:ListGroupsForUser', Resource: `arn:aws:iam::${accountId}:user/recruit` },
          ],
        },
      });
      const delegated = iamClient(server, admin.keys);
      try {
        await delegated.send(new CreateGroupCommand({ GroupName: 'squad', Path: '/team/' }));
        await delegated.send(new AddUserToGroupCommand({ GroupName: 'squad', UserName: 'recruit' }));
        assert.deepEqual((await delegated.send(new GetGroupCommand({ GroupName: 'squad' }))).Users?.map((user) => user.UserName), ['recruit']);
        assert.deepEqual((await delegated.send(new ListGroupsForUserCommand({ UserName: 'recruit' }))).Groups?.map((group) => group.GroupName), ['squad']);
        await delegated.send(new UpdateGroupCommand({ GroupName: 'squad', NewGroupName: 'squad-2' }));

        const outside = `arn:aws:iam::${accountId}:group/outside`;
        await rejectsWith(
          delegated.send(new AddUserToGroupCommand({ GroupName: 'outside', UserName: 'recruit' })),
          'AccessDenied',
          403,
          `User: ${admin.arn} is not authorized to perform: iam:AddUserToGroup on resource: ${outside} because no identity-based policy allows the iam:AddUserToGroup action`,
        );
        await rejectsWith(delegated.send(new CreateGroupCommand({ GroupName: 'rogue' })), 'AccessDenied', 403, /iam:CreateGroup on resource: arn:aws:iam::\d{12}:group\/rogue /);
        await rejectsWith(delegated.send(new ListGroupsForUserCommand({ UserName: 'team-admin' })), 'AccessDenied', 403, /iam:ListGroupsForUser/);
        // Moving a group out of /team/ needs UpdateGroup on its new ARN too.
        await rejectsWith(
          delegated.send(new UpdateGroupCommand({ GroupName: 'squad-2', NewPath: '/' })),
          'AccessDenied',
          403,
          new RegExp(`iam:UpdateGroup on resource: arn:aws:iam::${accountId}:group/squad-2 `),
        );
        assert.equal((await iam.send(new GetGroupCommand({ GroupName: 'squad-2' }))).Group?.Path, '/team/');
        // A group-managing admin is not thereby a member: the group's policies are not its own.
        await delegated.send(
          new PutGroupPolicyCommand({ GroupName: 'squad-2', PolicyName: 'all', PolicyDocument: policy({ Effect: 'Allow', Action: '*', Resource: '*' }) }),
        );
        await rejectsWith(delegated.send(new DeleteGroupCommand({ GroupName: 'outside' })), 'AccessDenied', 403);
      } finally {
        delegated.destroy();
      }
    });
  });

  describe('a group is not a principal', () => {
    const groupPrincipal = () => ({ AWS: `arn:aws:iam::${accountId}:group/a-readers` });

    it('a secret resource policy naming a group is MalformedPolicyDocumentException', async () => {
      await rejectsWith(
        rootSecrets.send(
          new PutResourcePolicyCommand({
            SecretId: 'a/one',
            ResourcePolicy: policy({ Effect: 'Allow', Principal: groupPrincipal(), Action: 'secretsmanager:GetSecretValue', Resource: '*' }),
          }),
        ),
        'MalformedPolicyDocumentException',
        400,
        /group/,
      );
    });

    it('a key policy naming a group is MalformedPolicyDocumentException', async () => {
      const kms = server.kms({ credentials: root });
      try {
        const keyPolicy = policy(
          { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'group', Effect: 'Allow', Principal: groupPrincipal(), Action: 'kms:Decrypt', Resource: '*' },
        );
        await rejectsWith(kms.send(new CreateKeyCommand({ Policy: keyPolicy })), 'MalformedPolicyDocumentException', 400);
      } finally {
        kms.destroy();
      }
    });

    it("a role's trust policy naming a group is MalformedPolicyDocument", async () => {
      await rejectsWith(
        iam.send(
          new CreateRoleCommand({
            RoleName: 'trusts-a-group',
            AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: groupPrincipal(), Action: 'sts:AssumeRole' }),
          }),
        ),
        'MalformedPolicyDocumentException',
        400,
        /Invalid principal in policy: "AWS":"arn:aws:iam::\d{12}:group\/a-readers"/,
      );
    });
  });

  describe('AWS CLI and boto3', () => {
    it('aws iam create-group, add-user-to-group and get-group', async () => {
      const run = (command: string) => shellOk(command, { cwd: workDir, credentials: root, region: 'us-east-1', env: { COFFER_URL: server.url } });
      const created = JSON.parse(await run('aws iam create-group --group-name cli-group --path /cli/ --endpoint-url "$COFFER_URL"')) as { Group: { Arn: string; GroupId: string } };
      assert.equal(created.Group.Arn, `arn:aws:iam::${accountId}:group/cli/cli-group`);
      await run('aws iam create-user --user-name cli-member --endpoint-url "$COFFER_URL"');
      await run('aws iam add-user-to-group --group-name cli-group --user-name cli-member --endpoint-url "$COFFER_URL"');
      const fetched = JSON.parse(await run('aws iam get-group --group-name cli-group --endpoint-url "$COFFER_URL"')) as {
        Group: { GroupId: string; Path: string };
        Users: Array<{ UserName: string; Arn: string }>;
      };
      assert.equal(fetched.Group.GroupId, created.Group.GroupId);
      assert.equal(fetched.Group.Path, '/cli/');
      assert.deepEqual(fetched.Users.map((user) => user.Arn), [`arn:aws:iam::${accountId}:user/cli-member`]);
    });

    it("boto3's paginators walk GetGroup's members and ListGroups' groups two at a time", async () => {
      const other = await createAccount(server);
      const client = iamClient(server, other.root);
      try {
        await client.send(new CreateGroupCommand({ GroupName: 'boto-group' }));
        for (const name of ['u1', 'u2', 'u3']) {
          await client.send(new CreateUserCommand({ UserName: name }));
          await client.send(new AddUserToGroupCommand({ GroupName: 'boto-group', UserName: name }));
        }
        for (const name of ['boto-x', 'boto-y']) await client.send(new CreateGroupCommand({ GroupName: name }));
      } finally {
        client.destroy();
      }
      const source = `
import json, boto3
iam = boto3.client('iam')
members, member_pages = [], 0
for page in iam.get_paginator('get_group').paginate(GroupName='boto-group', PaginationConfig={'PageSize': 2}):
    member_pages += 1
    members += [user['UserName'] for user in page['Users']]
groups, group_pages = [], 0
for page in iam.get_paginator('list_groups').paginate(PaginationConfig={'PageSize': 2}):
    group_pages += 1
    groups += [group['GroupName'] for group in page['Groups']]
print(json.dumps({'members': members, 'member_pages': member_pages, 'groups': groups, 'group_pages': group_pages}))
`;
      const output = JSON.parse(await runPythonOk('groups.py', source, { cwd: workDir, credentials: other.root, endpointUrl: server.url })) as Record<string, unknown>;
      assert.deepEqual(output, { members: ['u1', 'u2', 'u3'], member_pages: 2, groups: ['boto-group', 'boto-x', 'boto-y'], group_pages: 2 });
    });
  });
});

/** The same evaluation on the PostgreSQL store: one read joins the user's and its groups' policies there too. */
describe('IAM groups on PostgreSQL', () => {
  let database: { url: string; drop(): Promise<void> };
  let server: TestServer;

  before(async () => {
    database = await createTestDatabase();
    server = await startTestServer({ devMode: false, postgres: { url: database.url, poolSize: 2 } });
  });
  after(async () => {
    await server?.cleanup();
    await database?.drop();
  });

  it("a member is allowed by its group's Allow, refused by its Deny, and refused again on the next request once removed", async () => {
    const { accountId, root } = await createAccount(server);
    const iam = iamClient(server, root);
    const rootSecrets = secretsClient(server, { credentials: root });
    const member = await createUser(server, root, 'pg-member');
    const client = secretsClient(server, { credentials: member.keys });
    try {
      await rootSecrets.send(new CreateSecretCommand({ Name: 'a/pg', SecretString: 'in-a' }));
      await rootSecrets.send(new CreateSecretCommand({ Name: 'a/pg-denied', SecretString: 'denied' }));
      await iam.send(new CreateGroupCommand({ GroupName: 'pg-readers' }));
      await iam.send(
        new PutGroupPolicyCommand({
          GroupName: 'pg-readers',
          PolicyName: 'read',
          PolicyDocument: policy(
            { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:us-east-1:${accountId}:secret:a/*` },
            { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:us-east-1:${accountId}:secret:a/pg-denied-*` },
          ),
        }),
      );
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/pg' })), 'AccessDeniedException', 400);
      await iam.send(new AddUserToGroupCommand({ GroupName: 'pg-readers', UserName: 'pg-member' }));
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/pg' }))).SecretString, 'in-a');
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/pg-denied' })), 'AccessDeniedException', 400, /explicit deny/);
      await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'pg-readers', UserName: 'pg-member' }));
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/pg' })), 'AccessDeniedException', 400, /no identity-based policy allows/);
    } finally {
      for (const each of [iam, rootSecrets, client]) each.destroy();
    }
  });
});
