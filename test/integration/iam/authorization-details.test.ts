import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DetachGroupPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  GetContextKeysForPrincipalPolicyCommand,
  PutGroupPolicyCommand,
  PutUserPermissionsBoundaryCommand,
  SimulatePrincipalPolicyCommand,
  type EvaluationResult,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { runPythonOk } from '../../helpers/python.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, createRole, createUser, iamClient, type Keys } from '../../helpers/principals.js';

const GET = 'secretsmanager:GetSecretValue';
const DESCRIBE = 'secretsmanager:DescribeSecret';
const LIST = 'secretsmanager:ListSecrets';
const AWS_POLICY = 'arn:aws:iam::aws:policy/SecretsManagerReadWrite';
const UNUSED_AWS_POLICY = 'arn:aws:iam::aws:policy/IAMReadOnlyAccess';

const allow = (action: string, sid = 'Grant') => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: action, Resource: '*' }] });

/**
 * GetAccountAuthorizationDetails with groups, attached managed policies, permissions boundaries and managed
 * policies with their versions; policy simulation of a group and of a user through its group and attached
 * policies (MatchedStatements name the policy and its type).
 */
describe('GetAccountAuthorizationDetails and simulation with groups and managed policies', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let iam: IAMClient;
  let cwd: string;
  let localArn: string;
  let boundaryArn: string;
  let memberArn: string;
  let groupArn: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    cwd = mkdtempSync(join(tmpdir(), 'coffer-authdetails-'));
    iam = iamClient(server, root);
    memberArn = (await createUser(server, root, 'member', { policy: allow(LIST, 'Own') })).arn;
    await createUser(server, root, 'loner');
    groupArn = (await iam.send(new CreateGroupCommand({ GroupName: 'readers', Path: '/teams/' }))).Group!.Arn!;
    await iam.send(new PutGroupPolicyCommand({ GroupName: 'readers', PolicyName: 'read-secrets', PolicyDocument: allow(GET, 'GroupRead') }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'member' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'empty' }));

    localArn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'describe', PolicyDocument: allow(DESCRIBE, 'Describe'), Description: 'describe secrets' }))).Policy!.Arn!;
    await iam.send(new CreatePolicyVersionCommand({ PolicyArn: localArn, PolicyDocument: allow(DESCRIBE, 'DescribeV2'), SetAsDefault: true }));
    boundaryArn = (await iam.send(new CreatePolicyCommand({ PolicyName: 'boundary', PolicyDocument: allow('secretsmanager:*') }))).Policy!.Arn!;
    await iam.send(new AttachUserPolicyCommand({ UserName: 'member', PolicyArn: localArn }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'member', PolicyArn: AWS_POLICY }));
    await iam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'member', PermissionsBoundary: boundaryArn }));
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] };
    await createRole(server, root, 'app', trust);
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'app', PolicyArn: localArn }));
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await server.cleanup();
  });

  it('lists groups with their policies, users with their groups, attached policies and boundary, roles with theirs', async () => {
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: AWS_POLICY }));
    const all = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    // Detached again so the counts the next tests check are the users' and roles' alone.
    await iam.send(new DetachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: AWS_POLICY }));
    assert.equal(all.IsTruncated, false);

    const member = all.UserDetailList!.find((user) => user.UserName === 'member')!;
    assert.deepEqual(member.GroupList, ['readers']);
    // Its own inline policy only: the group's is listed with the group.
    assert.deepEqual(member.UserPolicyList?.map((policy) => policy.PolicyName), ['inline']);
    assert.deepEqual(
      member.AttachedManagedPolicies,
      [
        { PolicyName: 'SecretsManagerReadWrite', PolicyArn: AWS_POLICY },
        { PolicyName: 'describe', PolicyArn: localArn },
      ].sort((a, b) => (a.PolicyArn < b.PolicyArn ? -1 : 1)),
    );
    assert.equal(member.PermissionsBoundary?.PermissionsBoundaryArn, boundaryArn);
    const loner = all.UserDetailList!.find((user) => user.UserName === 'loner')!;
    assert.deepEqual(loner.GroupList ?? [], []);
    assert.equal(loner.PermissionsBoundary, undefined);

    const role = all.RoleDetailList!.find((detail) => detail.RoleName === 'app')!;
    assert.deepEqual(role.AttachedManagedPolicies, [{ PolicyName: 'describe', PolicyArn: localArn }]);

    assert.deepEqual(all.GroupDetailList?.map((group) => group.GroupName), ['empty', 'readers']);
    const readers = all.GroupDetailList![1]!;
    assert.equal(readers.Arn, groupArn);
    assert.equal(readers.Path, '/teams/');
    assert.match(readers.GroupId!, /^AGPA/);
    assert.ok(readers.CreateDate instanceof Date);
    assert.deepEqual(readers.GroupPolicyList?.map((policy) => policy.PolicyName), ['read-secrets']);
    assert.equal(decodeURIComponent(readers.GroupPolicyList![0]!.PolicyDocument!), allow(GET, 'GroupRead'));
    assert.deepEqual(readers.AttachedManagedPolicies, [{ PolicyName: 'SecretsManagerReadWrite', PolicyArn: AWS_POLICY }]);
  });

  it('lists the local managed policies with every version, and only the AWS managed policies the account uses', async () => {
    const all = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    const names = all.Policies?.map((policy) => policy.PolicyName);
    // Local (by name), then AWS managed: only the one attached, not the dozen Coffer knows.
    assert.deepEqual(names, ['boundary', 'describe', 'SecretsManagerReadWrite']);
    const local = all.Policies!.find((policy) => policy.Arn === localArn)!;
    assert.equal(local.DefaultVersionId, 'v2');
    assert.equal(local.AttachmentCount, 2);
    assert.equal(local.PermissionsBoundaryUsageCount, 0);
    assert.equal(local.IsAttachable, true);
    assert.equal(local.Description, 'describe secrets');
    assert.deepEqual(
      local.PolicyVersionList?.map((version) => [version.VersionId, version.IsDefaultVersion]),
      [
        ['v2', true],
        ['v1', false],
      ],
    );
    assert.equal(decodeURIComponent(local.PolicyVersionList![0]!.Document!), allow(DESCRIBE, 'DescribeV2'));
    assert.ok(local.PolicyVersionList![0]!.CreateDate instanceof Date);
    const boundary = all.Policies!.find((policy) => policy.Arn === boundaryArn)!;
    assert.equal(boundary.PermissionsBoundaryUsageCount, 1);
    assert.equal(boundary.AttachmentCount, 0);
    const aws = all.Policies!.find((policy) => policy.Arn === AWS_POLICY)!;
    assert.equal(aws.AttachmentCount, 1);
    assert.deepEqual(aws.PolicyVersionList?.map((version) => version.IsDefaultVersion), [true]);
    assert.match(decodeURIComponent(aws.PolicyVersionList![0]!.Document!), /secretsmanager:\*/);
    assert.ok(!names?.includes(UNUSED_AWS_POLICY.split('/').pop()!));

    const onlyLocal = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['LocalManagedPolicy'] }));
    assert.deepEqual(onlyLocal.Policies?.map((policy) => policy.PolicyName), ['boundary', 'describe']);
    assert.deepEqual(onlyLocal.UserDetailList ?? [], []);
    const onlyAws = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['AWSManagedPolicy'] }));
    assert.deepEqual(onlyAws.Policies?.map((policy) => policy.Arn), [AWS_POLICY]);
    const groupsOnly = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Group'] }));
    assert.deepEqual(groupsOnly.GroupDetailList?.map((group) => group.GroupName), ['empty', 'readers']);
    assert.deepEqual(groupsOnly.Policies ?? [], []);
    assert.deepEqual(groupsOnly.RoleDetailList ?? [], []);
  });

  it('pages across every list: MaxItems/Marker, and boto3 paginator sees each entry once', async () => {
    // 2 users, 2 groups, 1 role, 2 local and 1 AWS managed policy: 8 entries.
    const first = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 3 }));
    assert.equal(first.IsTruncated, true);
    assert.equal(first.UserDetailList?.length, 2);
    assert.deepEqual(first.GroupDetailList?.map((group) => group.GroupName), ['empty']);
    const second = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 3, Marker: first.Marker }));
    assert.deepEqual(second.GroupDetailList?.map((group) => group.GroupName), ['readers']);
    assert.deepEqual(second.RoleDetailList?.map((role) => role.RoleName), ['app']);
    assert.deepEqual(second.Policies?.map((policy) => policy.PolicyName), ['boundary']);

    const script = `
import boto3, json
iam = boto3.client('iam')
lists = {'UserDetailList': [], 'GroupDetailList': [], 'RoleDetailList': [], 'Policies': []}
pages = 0
for page in iam.get_paginator('get_account_authorization_details').paginate(PaginationConfig={'PageSize': 2}):
    pages += 1
    for key in lists:
        lists[key] += page.get(key, [])
print(json.dumps({
  'pages': pages,
  'users': [u['UserName'] for u in lists['UserDetailList']],
  'groups': [g['GroupName'] for g in lists['GroupDetailList']],
  'member_groups': [u.get('GroupList') for u in lists['UserDetailList'] if u['UserName'] == 'member'][0],
  'roles': [r['RoleName'] for r in lists['RoleDetailList']],
  'policies': [p['PolicyName'] for p in lists['Policies']],
  'versions': [len(p['PolicyVersionList']) for p in lists['Policies']],
}))
`;
    const out = JSON.parse(await runPythonOk('details.py', script, { cwd, credentials: root, endpointUrl: server.url }));
    assert.deepEqual(out, {
      pages: 4,
      users: ['loner', 'member'],
      groups: ['empty', 'readers'],
      member_groups: ['readers'],
      roles: ['app'],
      policies: ['boundary', 'describe', 'SecretsManagerReadWrite'],
      versions: [1, 2, 1],
    });
  });

  it('simulates a group: what its policy allows, named in MatchedStatements as a group policy; its context keys', async () => {
    const answer = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: groupArn, ActionNames: [GET, DESCRIBE] }));
    const [get, describe] = answer.EvaluationResults!;
    assert.equal(get!.EvalDecision, 'allowed');
    assert.deepEqual(
      get!.MatchedStatements?.map((statement) => [statement.SourcePolicyId, statement.SourcePolicyType]),
      [['read-secrets', 'group']],
    );
    assert.equal(describe!.EvalDecision, 'implicitDeny');

    await iam.send(new PutGroupPolicyCommand({ GroupName: 'empty', PolicyName: 'keyed', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: GET, Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'a' } } }] }) }));
    const keys = await iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${accountId}:group/empty` }));
    assert.deepEqual(keys.ContextKeyNames, ['aws:PrincipalTag/team']);

    await assert.rejects(iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${accountId}:group/ghosts`, ActionNames: [GET] })), {
      name: 'NoSuchEntityException',
      message: 'The group with name ghosts cannot be found.',
    });
    // The group's name under another path is not this group.
    await assert.rejects(iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${accountId}:group/readers`, ActionNames: [GET] })), {
      name: 'NoSuchEntityException',
    });
  });

  it('a user is simulated with its group and attached policies, each named with its type', async () => {
    const answer = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: memberArn, ActionNames: [GET, DESCRIBE, LIST] }));
    const byAction: Record<string, EvaluationResult> = Object.fromEntries(answer.EvaluationResults!.map((result) => [result.EvalActionName!, result]));
    assert.equal(byAction[GET]!.EvalDecision, 'allowed');
    const sources = (action: string) => byAction[action]!.MatchedStatements!.map((statement) => [statement.SourcePolicyId, statement.SourcePolicyType]);
    assert.deepEqual(sources(GET), [
      ['read-secrets', 'group'],
      [AWS_POLICY, 'aws-managed'],
    ]);
    assert.equal(byAction[DESCRIBE]!.EvalDecision, 'allowed');
    assert.deepEqual(sources(DESCRIBE), [
      [localArn, 'user-managed'],
      [AWS_POLICY, 'aws-managed'],
    ]);
    assert.deepEqual(sources(LIST), [
      ['inline', 'user'],
      [AWS_POLICY, 'aws-managed'],
    ]);
  });
});
