import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeletePolicyCommand,
  DeleteUserPermissionsBoundaryCommand,
  GetPolicyCommand,
  GetRoleCommand,
  GetUserCommand,
  ListEntitiesForPolicyCommand,
  PutRolePolicyCommand,
  PutUserPermissionsBoundaryCommand,
  PutUserPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { assumeRole, createAccount, createUser, iamClient, type Keys, refusal } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const EVERYTHING_IN_SECRETS = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] });
/** The boundary of the brief: GetSecretValue on a/* only. */
const READ_A_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:a/*' }],
});

/** Permissions boundaries cap what users' and roles' identity policies allow, as IAM evaluates them. */
describe('IAM permissions boundaries', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let readAOnly: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
    const secrets = secretsClient(server, { credentials: root });
    for (const name of ['a/one', 'a/two', 'b/one']) await secrets.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
    readAOnly = (await iam.send(new CreatePolicyCommand({ PolicyName: 'ReadAOnly', PolicyDocument: READ_A_ONLY }))).Policy!.Arn!;
  });
  after(async () => {
    iam.destroy();
    await server.cleanup();
  });

  it('a boundary allowing GetSecretValue on a/* caps a user whose inline policy allows secretsmanager:*', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'capped', PermissionsBoundary: readAOnly }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'capped', PolicyName: 'all', PolicyDocument: EVERYTHING_IN_SECRETS }));
    const user = await createKeysFor('capped');
    const secrets = secretsClient(server, { credentials: user });

    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'value of a/one');
    const otherPrefix = await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'b/one' })));
    assert.equal(otherPrefix.name, 'AccessDeniedException');
    assert.match(otherPrefix.message, /because no permissions boundary allows the secretsmanager:GetSecretValue action$/);
    assert.equal((await refusal(secrets.send(new PutSecretValueCommand({ SecretId: 'a/one', SecretString: 'changed' })))).name, 'AccessDeniedException');

    const got = await iam.send(new GetUserCommand({ UserName: 'capped' }));
    assert.deepEqual(got.User!.PermissionsBoundary, { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: readAOnly });
    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: readAOnly }))).Policy!;
    assert.deepEqual([policy.AttachmentCount, policy.PermissionsBoundaryUsageCount], [0, 1]);
    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: readAOnly, PolicyUsageFilter: 'PermissionsBoundary' }));
    assert.deepEqual(entities.PolicyUsers?.map((entry) => entry.UserName), ['capped']);

    // Removing the boundary lifts the cap on the next request.
    await iam.send(new DeleteUserPermissionsBoundaryCommand({ UserName: 'capped' }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'b/one' }))).SecretString, 'value of b/one');
    assert.equal((await iam.send(new GetUserCommand({ UserName: 'capped' }))).User!.PermissionsBoundary, undefined);
  });

  it('a boundary grants nothing by itself, and a Deny in it denies', async () => {
    const denyTwo = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' },
        { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:a/two-*' },
      ],
    });
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'DenyTwo', PolicyDocument: denyTwo }))).Policy!.Arn!;
    await iam.send(new CreateUserCommand({ UserName: 'denied' }));
    const user = await createKeysFor('denied');
    const secrets = secretsClient(server, { credentials: user });
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'denied', PermissionsBoundary: arn }));
    // No identity policy yet: the boundary's Allow gives nothing.
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'a/one' })))).name, 'AccessDeniedException');
    await iam.send(new PutUserPolicyCommand({ UserName: 'denied', PolicyName: 'all', PolicyDocument: EVERYTHING_IN_SECRETS }));
    await secrets.send(new GetSecretValueCommand({ SecretId: 'a/one' }));
    const explicit = await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'a/two' })));
    assert.equal(explicit.name, 'AccessDeniedException');
    assert.match(explicit.message, /with an explicit deny in a permissions boundary$/);
  });

  it('a boundary whose policy was deleted allows nothing', async () => {
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Temporary', PolicyDocument: EVERYTHING_IN_SECRETS }))).Policy!.Arn!;
    await iam.send(new CreateUserCommand({ UserName: 'orphaned', PermissionsBoundary: arn }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'orphaned', PolicyName: 'all', PolicyDocument: EVERYTHING_IN_SECRETS }));
    const secrets = secretsClient(server, { credentials: await createKeysFor('orphaned') });
    await secrets.send(new GetSecretValueCommand({ SecretId: 'b/one' }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'b/one' })))).name, 'AccessDeniedException');
  });

  it('a role session is bounded by its role\'s boundary, also for a resource policy naming the role; a user is not, for one naming the user', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] };
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'bounded-role', AssumeRolePolicyDocument: JSON.stringify(trust), PermissionsBoundary: readAOnly }));
    assert.deepEqual((await iam.send(new GetRoleCommand({ RoleName: 'bounded-role' }))).Role!.PermissionsBoundary, { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: readAOnly });
    await iam.send(new PutRolePolicyCommand({ RoleName: 'bounded-role', PolicyName: 'all', PolicyDocument: EVERYTHING_IN_SECRETS }));
    const session = secretsClient(server, { credentials: await assumeRole(server, root, role.Role!.Arn!) });
    assert.equal((await session.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'value of a/one');
    assert.equal((await refusal(session.send(new GetSecretValueCommand({ SecretId: 'b/one' })))).name, 'AccessDeniedException');

    // A resource policy on b/one naming the role and a user directly: AWS limits the role's grant by its boundary,
    // not the user's.
    await iam.send(new CreateUserCommand({ UserName: 'named-user', PermissionsBoundary: readAOnly }));
    const userArn = `arn:aws:iam::${accountId}:user/named-user`;
    await secretsClient(server, { credentials: root }).send(
      new PutResourcePolicyCommand({
        SecretId: 'b/one',
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: [role.Role!.Arn!, userArn] }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
        }),
      }),
    );
    const named = secretsClient(server, { credentials: await createKeysFor('named-user') });
    assert.equal((await named.send(new GetSecretValueCommand({ SecretId: 'b/one' }))).SecretString, 'value of b/one');
    assert.equal((await refusal(session.send(new GetSecretValueCommand({ SecretId: 'b/one' })))).name, 'AccessDeniedException');
  });

  it('iam:PermissionsBoundary lets a delegated administrator create only bounded users', async () => {
    const admin = await createUser(server, root, 'delegated-admin', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['iam:CreateUser', 'iam:PutUserPermissionsBoundary'], Resource: '*', Condition: { StringEquals: { 'iam:PermissionsBoundary': readAOnly } } },
        ],
      },
    });
    const asAdmin = iamClient(server, admin.keys);
    try {
      assert.equal((await refusal(asAdmin.send(new CreateUserCommand({ UserName: 'unbounded' })))).name, 'AccessDenied');
      await asAdmin.send(new CreateUserCommand({ UserName: 'bounded-by-delegate', PermissionsBoundary: readAOnly }));
      const everything = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Everything', PolicyDocument: EVERYTHING_IN_SECRETS }))).Policy!.Arn!;
      assert.equal((await refusal(asAdmin.send(new PutUserPermissionsBoundaryCommand({ UserName: 'bounded-by-delegate', PermissionsBoundary: everything })))).name, 'AccessDenied');
      assert.equal((await iam.send(new GetUserCommand({ UserName: 'bounded-by-delegate' }))).User!.PermissionsBoundary?.PermissionsBoundaryArn, readAOnly);
      assert.equal((await refusal(iam.send(new GetUserCommand({ UserName: 'unbounded' })))).name, 'NoSuchEntityException');
    } finally {
      asAdmin.destroy();
    }
  });

  /** CreateAccessKey for an existing user, by the account root. */
  async function createKeysFor(userName: string): Promise<Keys> {
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
  }
});
