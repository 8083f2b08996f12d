import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DeleteGroupCommand,
  DetachGroupPolicyCommand,
  GetPolicyCommand,
  ListAttachedGroupPoliciesCommand,
  ListEntitiesForPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, createUser, iamClient, type Keys } from '../../helpers/principals.js';

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

const SECRETS_MANAGER_READ_WRITE = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite';

/**
 * Managed policies attached to IAM groups (AttachGroupPolicy, DetachGroupPolicy, ListAttachedGroupPolicies) through
 * @aws-sdk/client-iam and the AWS CLI: they apply to every member from its next request on, block DeleteGroup, are
 * counted and listed per policy, and are limited to ten per group.
 */
describe('IAM group managed policy attachments', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let rootSecrets: SecretsManagerClient;
  let workDir: string;

  const secretArn = (pattern: string) => `arn:aws:secretsmanager:us-east-1:${accountId}:secret:${pattern}`;
  const createCustomerPolicy = async (name: string, document = policy({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }), path?: string) =>
    (await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: document, Path: path }))).Policy!.Arn!;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
    rootSecrets = secretsClient(server, { credentials: root });
    await rootSecrets.send(new CreateSecretCommand({ Name: 'a/one', SecretString: 'in-a' }));
    await rootSecrets.send(new CreateSecretCommand({ Name: 'b/one', SecretString: 'in-b' }));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-iam-group-attachments-'));
  });
  after(async () => {
    iam.destroy();
    rootSecrets.destroy();
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a member gets a customer policy and SecretsManagerReadWrite (attached with the AWS CLI) through its group; detached, the next request is refused", async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'readers' }));
    const member = await createUser(server, root, 'member');
    await iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'member' }));
    const readA = await createCustomerPolicy('ReadA', policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn('a/*') }));
    const client = secretsClient(server, { credentials: member.keys });
    try {
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/one' })), 'AccessDeniedException', 400);

      await iam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: readA }));
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'in-a');
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'b/one' })), 'AccessDeniedException', 400, /because no identity-based policy allows/);

      const run = (command: string) => shellOk(command, { cwd: workDir, credentials: root, region: 'us-east-1', env: { COFFER_URL: server.url } });
      await run(`aws iam attach-group-policy --group-name readers --policy-arn ${SECRETS_MANAGER_READ_WRITE} --endpoint-url "$COFFER_URL"`);
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'b/one' }))).SecretString, 'in-b');

      await iam.send(new DetachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: SECRETS_MANAGER_READ_WRITE }));
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'b/one' })), 'AccessDeniedException', 400);
      assert.equal((await client.send(new GetSecretValueCommand({ SecretId: 'a/one' }))).SecretString, 'in-a');
      await iam.send(new DetachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: readA }));
      await rejectsWith(client.send(new GetSecretValueCommand({ SecretId: 'a/one' })), 'AccessDeniedException', 400);
    } finally {
      client.destroy();
    }
  });

  it('ListAttachedGroupPolicies lists by ARN, filters by PathPrefix and pages with Marker/MaxItems', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'listed' }));
    const teamPolicy = await createCustomerPolicy('TeamPolicy', undefined, '/team/');
    const plainPolicy = await createCustomerPolicy('PlainPolicy');
    for (const arn of [teamPolicy, plainPolicy, SECRETS_MANAGER_READ_WRITE]) await iam.send(new AttachGroupPolicyCommand({ GroupName: 'listed', PolicyArn: arn }));
    // Attaching an attached policy again changes nothing.
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'LISTED', PolicyArn: plainPolicy }));

    const all = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'listed' }));
    // In ARN order: the account's digits sort before `aws`.
    assert.deepEqual(all.AttachedPolicies, [
      { PolicyName: 'PlainPolicy', PolicyArn: plainPolicy },
      { PolicyName: 'TeamPolicy', PolicyArn: teamPolicy },
      { PolicyName: 'SecretsManagerReadWrite', PolicyArn: SECRETS_MANAGER_READ_WRITE },
    ]);
    assert.equal(all.IsTruncated, false);
    assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'listed', PathPrefix: '/team/' }))).AttachedPolicies?.map((p) => p.PolicyName), ['TeamPolicy']);

    const first = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'listed', MaxItems: 2 }));
    assert.equal(first.IsTruncated, true);
    assert.equal(first.AttachedPolicies?.length, 2);
    const rest = await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'listed', MaxItems: 2, Marker: first.Marker }));
    assert.equal(rest.IsTruncated, false);
    assert.deepEqual([...first.AttachedPolicies!, ...rest.AttachedPolicies!], all.AttachedPolicies);

    await rejectsWith(iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'nothing' })), 'NoSuchEntityException', 404, 'The group with name nothing cannot be found.');
  });

  it('errors: unknown group or policy is NoSuchEntity, detaching what is not attached too; a malformed ARN is a ValidationError', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'errors' }));
    const arn = await createCustomerPolicy('ErrorsPolicy');
    await rejectsWith(iam.send(new AttachGroupPolicyCommand({ GroupName: 'nothing', PolicyArn: arn })), 'NoSuchEntityException', 404, 'The group with name nothing cannot be found.');
    await rejectsWith(
      iam.send(new AttachGroupPolicyCommand({ GroupName: 'errors', PolicyArn: `arn:aws:iam::${accountId}:policy/Missing` })),
      'NoSuchEntityException',
      404,
      /does not exist or is not attachable/,
    );
    await rejectsWith(iam.send(new AttachGroupPolicyCommand({ GroupName: 'errors', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchAwsPolicy' })), 'NoSuchEntityException', 404);
    await rejectsWith(iam.send(new DetachGroupPolicyCommand({ GroupName: 'errors', PolicyArn: arn })), 'NoSuchEntityException', 404);
    await rejectsWith(iam.send(new AttachGroupPolicyCommand({ GroupName: 'errors', PolicyArn: 'not-an-arn' })), 'ValidationError', 400);
    assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'errors' }))).AttachedPolicies, []);
  });

  it('DeleteGroup answers DeleteConflict while a managed policy is attached; DeletePolicy too', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'doomed' }));
    const arn = await createCustomerPolicy('DoomedPolicy');
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'doomed', PolicyArn: arn }));
    await rejectsWith(iam.send(new DeleteGroupCommand({ GroupName: 'doomed' })), 'DeleteConflictException', 409, 'Cannot delete entity, must detach all policies first.');
    await rejectsWith(iam.send(new DeletePolicyCommand({ PolicyArn: arn })), 'DeleteConflictException', 409);
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'doomed', PolicyArn: arn }));
    await iam.send(new DeleteGroupCommand({ GroupName: 'doomed' }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
  });

  it('ListEntitiesForPolicy answers PolicyGroups and AttachmentCount counts group attachments', async () => {
    const created = await iam.send(new CreateGroupCommand({ GroupName: 'counted', Path: '/ops/' }));
    const arn = await createCustomerPolicy('CountedPolicy');
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'counted', PolicyArn: arn }));
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.AttachmentCount, 1);

    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    assert.deepEqual(entities.PolicyGroups, [{ GroupName: 'counted', GroupId: created.Group!.GroupId }]);
    assert.deepEqual(entities.PolicyUsers, []);
    assert.deepEqual(entities.PolicyRoles, []);
    assert.deepEqual((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, EntityFilter: 'Group' }))).PolicyGroups?.map((g) => g.GroupName), ['counted']);
    assert.deepEqual((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, EntityFilter: 'User' }))).PolicyGroups, []);
    assert.deepEqual((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, PathPrefix: '/other/' }))).PolicyGroups, []);
  });

  it('at most ten managed policies per group: the eleventh is LimitExceeded and changes nothing', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'full' }));
    for (let index = 0; index < 10; index++) {
      await iam.send(new AttachGroupPolicyCommand({ GroupName: 'full', PolicyArn: await createCustomerPolicy(`Limit${index}`) }));
    }
    const eleventh = await createCustomerPolicy('Limit10');
    await rejectsWith(iam.send(new AttachGroupPolicyCommand({ GroupName: 'full', PolicyArn: eleventh })), 'LimitExceededException', 409, 'Cannot exceed quota for PoliciesPerGroup: 10');
    const attached = (await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'full', MaxItems: 100 }))).AttachedPolicies!;
    assert.equal(attached.length, 10);
    assert.ok(!attached.some((p) => p.PolicyArn === eleventh));
  });

  it('a user allowed AttachGroupPolicy only for one policy ARN (iam:PolicyARN) on one group cannot attach another, nor to another group', async () => {
    await iam.send(new CreateGroupCommand({ GroupName: 'delegated' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'off-limits' }));
    const allowed = await createCustomerPolicy('Delegable');
    const delegate = await createUser(server, root, 'group-delegate', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['iam:AttachGroupPolicy', 'iam:DetachGroupPolicy'],
            Resource: `arn:aws:iam::${accountId}:group/delegated`,
            Condition: { ArnEquals: { 'iam:PolicyARN': allowed } },
          },
        ],
      },
    });
    const asDelegate = iamClient(server, delegate.keys);
    try {
      await asDelegate.send(new AttachGroupPolicyCommand({ GroupName: 'delegated', PolicyArn: allowed }));
      await rejectsWith(asDelegate.send(new AttachGroupPolicyCommand({ GroupName: 'delegated', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })), 'AccessDenied', 403);
      await rejectsWith(asDelegate.send(new AttachGroupPolicyCommand({ GroupName: 'off-limits', PolicyArn: allowed })), 'AccessDenied', 403);
      await rejectsWith(asDelegate.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'delegated' })), 'AccessDenied', 403);
      assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'delegated' }))).AttachedPolicies?.map((p) => p.PolicyArn), [allowed]);
      assert.deepEqual((await iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: 'off-limits' }))).AttachedPolicies, []);
      await asDelegate.send(new DetachGroupPolicyCommand({ GroupName: 'delegated', PolicyArn: allowed }));
    } finally {
      asDelegate.destroy();
    }
  });
});
