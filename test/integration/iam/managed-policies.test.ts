import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateUserCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteUserCommand,
  DetachUserPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListPolicyVersionsCommand,
  SetDefaultPolicyVersionCommand,
  TagPolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { assumeRole, createAccount, createRole, createUser, iamClient, type Keys, refusal } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

function readPolicy(resource: string) {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource }] });
}

/** Customer managed and AWS managed policies: the API, its limits and conflicts, and what attaching them allows. */
describe('IAM managed policies', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let workDir: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    iam = iamClient(server, root);
    workDir = mkdtempSync(join(tmpdir(), 'coffer-managed-'));
    const secrets = secretsClient(server, { credentials: root });
    for (const name of ['alpha/one', 'beta/one']) await secrets.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
  });
  after(async () => {
    iam.destroy();
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('attaching a customer policy allows the user; a new default version changes the next decision; detaching refuses', async () => {
    const user = await createUser(server, root, 'reader');
    const secrets = secretsClient(server, { credentials: user.keys });
    const created = await iam.send(new CreatePolicyCommand({ PolicyName: 'ReadAlpha', Path: '/app/', PolicyDocument: readPolicy('arn:aws:secretsmanager:*:*:secret:alpha/*'), Description: 'alpha readers' }));
    const arn = created.Policy!.Arn!;
    assert.equal(arn, `arn:aws:iam::${accountId}:policy/app/ReadAlpha`);
    assert.match(created.Policy!.PolicyId!, /^ANPA[A-Z2-7]{17}$/);
    assert.equal(created.Policy!.DefaultVersionId, 'v1');

    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' })))).name, 'AccessDeniedException');
    await iam.send(new AttachUserPolicyCommand({ UserName: 'reader', PolicyArn: arn }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' }))).SecretString, 'value of alpha/one');
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'beta/one' })))).name, 'AccessDeniedException');

    const got = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    assert.equal(got.Policy!.AttachmentCount, 1);
    assert.equal(got.Policy!.Description, 'alpha readers');
    assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'reader' }))).AttachedPolicies, [{ PolicyName: 'ReadAlpha', PolicyArn: arn }]);
    const entities = await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    assert.deepEqual(entities.PolicyUsers?.map((entry) => entry.UserName), ['reader']);

    // A new version not made the default changes nothing; made the default, it decides the next request.
    const v2 = await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPolicy('arn:aws:secretsmanager:*:*:secret:beta/*') }));
    assert.deepEqual([v2.PolicyVersion!.VersionId, v2.PolicyVersion!.IsDefaultVersion], ['v2', false]);
    await secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' }));
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'beta/one' }))).SecretString, 'value of beta/one');
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' })))).name, 'AccessDeniedException');

    // GetPolicyVersion returns the document URL-encoded, as IAM does.
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    assert.equal(decodeURIComponent(version.PolicyVersion!.Document!), readPolicy('arn:aws:secretsmanager:*:*:secret:alpha/*'));
    assert.equal(version.PolicyVersion!.IsDefaultVersion, false);

    // DeleteUser refuses while a managed policy is attached; detaching it takes the permission away.
    await iam.send(new CreateUserCommand({ UserName: 'keyless' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'keyless', PolicyArn: arn }));
    const conflict = await refusal(iam.send(new DeleteUserCommand({ UserName: 'keyless' })));
    assert.equal(conflict.name, 'DeleteConflictException');
    assert.equal(conflict.message, 'Cannot delete entity, must detach all policies first.');
    await iam.send(new DetachUserPolicyCommand({ UserName: 'keyless', PolicyArn: arn }));
    await iam.send(new DeleteUserCommand({ UserName: 'keyless' }));
    await iam.send(new DetachUserPolicyCommand({ UserName: 'reader', PolicyArn: arn }));
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'beta/one' })))).name, 'AccessDeniedException');
    assert.equal((await refusal(iam.send(new DetachUserPolicyCommand({ UserName: 'reader', PolicyArn: arn })))).name, 'NoSuchEntityException');
  });

  it('five versions at most; the default version cannot be deleted; DeletePolicy conflicts while attached or versioned', async () => {
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Versioned', PolicyDocument: readPolicy('*') }))).Policy!.Arn!;
    for (let n = 2; n <= 5; n++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPolicy(`arn:aws:secretsmanager:*:*:secret:v${n}`) }));
    const limit = await refusal(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPolicy('*') })));
    assert.equal(limit.name, 'LimitExceededException');
    assert.match(limit.message, /up to 5 versions/);
    assert.deepEqual((await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions?.map((version) => version.VersionId), ['v5', 'v4', 'v3', 'v2', 'v1']);

    assert.equal((await refusal(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' })))).name, 'DeleteConflictException');
    await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' }));
    // Numbers are never reused: the next version after v5 is v6, even with v3 gone.
    assert.equal((await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPolicy('*'), SetAsDefault: true }))).PolicyVersion!.VersionId, 'v6');
    assert.equal((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.DefaultVersionId, 'v6');

    const versioned = await refusal(iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.equal(versioned.name, 'DeleteConflictException');
    for (const version of ['v1', 'v2', 'v4', 'v5']) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: version }));
    await iam.send(new CreateUserCommand({ UserName: 'holder' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'holder', PolicyArn: arn }));
    const attached = await refusal(iam.send(new DeletePolicyCommand({ PolicyArn: arn })));
    assert.equal(attached.name, 'DeleteConflictException');
    assert.equal(attached.message, 'Cannot delete a policy attached to entities.');
    await iam.send(new DetachUserPolicyCommand({ UserName: 'holder', PolicyArn: arn }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    assert.equal((await refusal(iam.send(new GetPolicyCommand({ PolicyArn: arn })))).name, 'NoSuchEntityException');
  });

  it('refuses bad input and changes nothing: duplicate names, malformed or oversized documents, unknown policies, the attachment quota', async () => {
    await iam.send(new CreatePolicyCommand({ PolicyName: 'Unique', PolicyDocument: readPolicy('*') }));
    assert.equal((await refusal(iam.send(new CreatePolicyCommand({ PolicyName: 'UNIQUE', Path: '/other/', PolicyDocument: readPolicy('*') })))).name, 'EntityAlreadyExistsException');
    assert.equal((await refusal(iam.send(new CreatePolicyCommand({ PolicyName: 'Bad', PolicyDocument: '{"Statement":[{"Effect":"Allow"}]}' })))).name, 'MalformedPolicyDocumentException');
    const resources = Array.from({ length: 200 }, (_, index) => `arn:aws:secretsmanager:us-east-1:${accountId}:secret:padding-${index}`);
    const large = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resources }] });
    const tooLarge = await refusal(iam.send(new CreatePolicyCommand({ PolicyName: 'Large', PolicyDocument: large })));
    assert.equal(tooLarge.name, 'LimitExceededException');
    assert.equal(tooLarge.message, 'Cannot exceed quota for PolicySize: 6144');
    assert.equal((await refusal(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${accountId}:policy/Large` })))).name, 'NoSuchEntityException');
    assert.equal((await refusal(iam.send(new GetPolicyCommand({ PolicyArn: 'not-an-arn-at-all-really' })))).name, 'InvalidInputException');

    await iam.send(new CreateUserCommand({ UserName: 'collector' }));
    const missing = await refusal(iam.send(new AttachUserPolicyCommand({ UserName: 'collector', PolicyArn: `arn:aws:iam::${accountId}:policy/Missing` })));
    assert.equal(missing.name, 'NoSuchEntityException');
    assert.equal((await refusal(iam.send(new AttachUserPolicyCommand({ UserName: 'collector', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchAwsPolicy' })))).name, 'NoSuchEntityException');
    for (let n = 0; n < 10; n++) {
      const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: `Quota${n}`, PolicyDocument: readPolicy('*') }))).Policy!.Arn!;
      await iam.send(new AttachUserPolicyCommand({ UserName: 'collector', PolicyArn: arn }));
    }
    const quota = await refusal(iam.send(new AttachUserPolicyCommand({ UserName: 'collector', PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess' })));
    assert.equal(quota.name, 'LimitExceededException');
    assert.equal(quota.message, 'Cannot exceed quota for PoliciesPerUser: 10');
    assert.equal((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'collector' }))).AttachedPolicies?.length, 10);
  });

  it('ListPolicies pages with Marker/MaxItems and filters by Scope, PathPrefix and OnlyAttached', async () => {
    const fresh = await createAccount(server);
    const other = iamClient(server, fresh.root);
    try {
      for (const name of ['P1', 'P2', 'P3', 'P4', 'P5']) await other.send(new CreatePolicyCommand({ PolicyName: name, Path: name === 'P5' ? '/team/' : '/', PolicyDocument: readPolicy('*') }));
      const names: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await other.send(new ListPoliciesCommand({ Scope: 'Local', MaxItems: 2, Marker: marker }));
        names.push(...page.Policies!.map((policy) => policy.PolicyName!));
        assert.equal(page.IsTruncated, page.Marker !== undefined);
        marker = page.Marker;
        pages += 1;
      } while (marker);
      assert.deepEqual(names, ['P1', 'P2', 'P3', 'P4', 'P5']);
      assert.equal(pages, 3);
      assert.deepEqual((await other.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: '/team/' }))).Policies?.map((policy) => policy.PolicyName), ['P5']);
      const aws = await other.send(new ListPoliciesCommand({ Scope: 'AWS' }));
      assert.ok(aws.Policies?.some((policy) => policy.Arn === 'arn:aws:iam::aws:policy/SecretsManagerReadWrite'));
      assert.ok(aws.Policies?.every((policy) => policy.Arn!.startsWith('arn:aws:iam::aws:policy/')));
      assert.deepEqual((await other.send(new ListPoliciesCommand({ OnlyAttached: true }))).Policies, []);
      await other.send(new CreateUserCommand({ UserName: 'someone' }));
      await other.send(new AttachUserPolicyCommand({ UserName: 'someone', PolicyArn: `arn:aws:iam::${fresh.accountId}:policy/P3` }));
      const attached = await other.send(new ListPoliciesCommand({ OnlyAttached: true }));
      assert.deepEqual(attached.Policies?.map((policy) => [policy.PolicyName, policy.AttachmentCount]), [['P3', 1]]);
      // Another account's policies are not in this account's view.
      assert.ok(!(await iam.send(new ListPoliciesCommand({ Scope: 'Local', MaxItems: 1000 }))).Policies?.some((policy) => policy.PolicyName === 'P1'));
    } finally {
      other.destroy();
    }
  });

  it('AWS managed SecretsManagerReadWrite, attached to a user, lets it read a secret; AWS managed policies cannot be changed', async () => {
    const user = await createUser(server, root, 'console-user');
    const secrets = secretsClient(server, { credentials: user.keys });
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' })))).name, 'AccessDeniedException');
    const arn = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite';
    await iam.send(new AttachUserPolicyCommand({ UserName: 'console-user', PolicyArn: arn }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' }))).SecretString, 'value of alpha/one');

    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!;
    assert.deepEqual([policy.PolicyName, policy.DefaultVersionId, policy.AttachmentCount, policy.IsAttachable], ['SecretsManagerReadWrite', 'v5', 1, true]);
    const document = JSON.parse(decodeURIComponent((await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }))).PolicyVersion!.Document!)) as {
      Statement: Array<{ Sid: string; Action: string[] }>;
    };
    assert.equal(document.Statement[0]!.Sid, 'BasePermissions');
    assert.ok(document.Statement[0]!.Action.includes('secretsmanager:*'));

    for (const change of [
      iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readPolicy('*') })),
      iam.send(new DeletePolicyCommand({ PolicyArn: arn })),
      iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: 'a', Value: 'b' }] })),
    ]) {
      assert.equal((await refusal(change)).name, 'AccessDenied');
    }
    assert.deepEqual((await iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))).Tags, []);
  });

  it('a role session gets its role\'s attached policies', async () => {
    const role = await createRole(server, root, 'attached-reader', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }],
    });
    const session = await assumeRole(server, root, role.arn);
    const secrets = secretsClient(server, { credentials: session });
    assert.equal((await refusal(secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' })))).name, 'AccessDeniedException');
    const arn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'RoleReads', PolicyDocument: readPolicy('*') }))).Policy!.Arn!;
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'attached-reader', PolicyArn: arn }));
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'alpha/one' }))).SecretString, 'value of alpha/one');
  });

  it('a user allowed only to attach policies carrying one ARN (iam:PolicyARN) cannot attach another', async () => {
    const allowed = (await iam.send(new CreatePolicyCommand({ PolicyName: 'Delegable', PolicyDocument: readPolicy('*') }))).Policy!.Arn!;
    const delegate = await createUser(server, root, 'delegate', {
      policy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'iam:AttachUserPolicy', Resource: '*', Condition: { ArnEquals: { 'iam:PolicyARN': allowed } } }],
      },
    });
    await iam.send(new CreateUserCommand({ UserName: 'target' }));
    const asDelegate = iamClient(server, delegate.keys);
    try {
      await asDelegate.send(new AttachUserPolicyCommand({ UserName: 'target', PolicyArn: allowed }));
      const refused = await refusal(asDelegate.send(new AttachUserPolicyCommand({ UserName: 'target', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })));
      assert.equal(refused.name, 'AccessDenied');
      assert.deepEqual((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'target' }))).AttachedPolicies?.map((policy) => policy.PolicyArn), [allowed]);
    } finally {
      asDelegate.destroy();
    }
  });

  it('the AWS CLI: create-policy file://, attach-role-policy, list-policies --scope AWS', async () => {
    writeFileSync(join(workDir, 'policy.json'), readPolicy('arn:aws:secretsmanager:*:*:secret:alpha/*'));
    const run = (command: string) => shellOk(command, { cwd: workDir, credentials: root, region: 'us-east-1', env: { COFFER_URL: server.url } });
    const created = JSON.parse(await run('aws iam create-policy --policy-name CliPolicy --policy-document file://policy.json --endpoint-url "$COFFER_URL"')) as {
      Policy: { Arn: string; DefaultVersionId: string };
    };
    assert.equal(created.Policy.Arn, `arn:aws:iam::${accountId}:policy/CliPolicy`);
    await createRole(server, root, 'cli-role', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] });
    await run(`aws iam attach-role-policy --role-name cli-role --policy-arn ${created.Policy.Arn} --endpoint-url "$COFFER_URL"`);
    const attached = JSON.parse(await run('aws iam list-attached-role-policies --role-name cli-role --endpoint-url "$COFFER_URL"')) as { AttachedPolicies: Array<{ PolicyName: string }> };
    assert.deepEqual(attached.AttachedPolicies.map((policy) => policy.PolicyName), ['CliPolicy']);
    // The CLI decodes the URL-encoded document into JSON.
    const version = JSON.parse(await run(`aws iam get-policy-version --policy-arn ${created.Policy.Arn} --version-id v1 --endpoint-url "$COFFER_URL"`)) as {
      PolicyVersion: { Document: { Statement: Array<{ Resource: string }> } };
    };
    assert.equal(version.PolicyVersion.Document.Statement[0]!.Resource, 'arn:aws:secretsmanager:*:*:secret:alpha/*');
    const listed = JSON.parse(await run('aws iam list-policies --scope AWS --endpoint-url "$COFFER_URL"')) as { Policies: Array<{ PolicyName: string }> };
    assert.ok(listed.Policies.some((policy) => policy.PolicyName === 'AWSKeyManagementServicePowerUser'));
  });
});
