import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateAccessKeyCommand,
  GetAccountAuthorizationDetailsCommand,
  ListAccessKeysCommand,
  ListUsersCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  TagUserCommand,
  paginateListUsers,
} from '@aws-sdk/client-iam';
import { shellOk } from '../../helpers/aws-cli.js';
import { runPythonOk } from '../../helpers/python.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createAccount, createRole, createUser, iamClient, type Keys } from '../../helpers/principals.js';

const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] });

/**
 * Every IAM List* and GetAccountAuthorizationDetails page with Marker/MaxItems/IsTruncated as IAM does: the
 * SDK's paginator, boto3's paginators and `aws iam list-users --max-items` see every item once.
 */
describe('IAM paging (Marker, MaxItems, IsTruncated)', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let cwd: string;
  const userNames = ['pager-a', 'pager-b', 'pager-c', 'pager-d', 'pager-e'];

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    cwd = mkdtempSync(join(tmpdir(), 'coffer-iam-paging-'));
    const iam = iamClient(server, root);
    for (const name of userNames) await createUser(server, root, name);
    await iam.send(new CreateAccessKeyCommand({ UserName: 'pager-a' })); // pager-a has two keys
    for (const policyName of ['p1', 'p2', 'p3']) await iam.send(new PutUserPolicyCommand({ UserName: 'pager-a', PolicyName: policyName, PolicyDocument: POLICY }));
    await iam.send(new TagUserCommand({ UserName: 'pager-a', Tags: ['t1', 't2', 't3'].map((Key) => ({ Key, Value: 'v' })) }));
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] };
    for (const name of ['pager-role-1', 'pager-role-2', 'pager-role-3']) await createRole(server, root, name, trust);
    for (const policyName of ['r1', 'r2', 'r3']) await iam.send(new PutRolePolicyCommand({ RoleName: 'pager-role-1', PolicyName: policyName, PolicyDocument: POLICY }));
  });
  after(async () => {
    rmSync(cwd, { recursive: true, force: true });
    await server.cleanup();
  });

  it('ListUsers pages by MaxItems; the SDK paginator sees every user once', async () => {
    const iam = iamClient(server, root);
    const first = await iam.send(new ListUsersCommand({ MaxItems: 2 }));
    assert.equal(first.Users?.length, 2);
    assert.equal(first.IsTruncated, true);
    assert.ok(first.Marker);
    const seen: string[] = [];
    for await (const page of paginateListUsers({ client: iam, pageSize: 2 }, {})) seen.push(...(page.Users ?? []).map((user) => user.UserName!));
    assert.deepEqual(seen, userNames);
  });

  it('ListAccessKeys pages (two keys, one per page)', async () => {
    const iam = iamClient(server, root);
    const first = await iam.send(new ListAccessKeysCommand({ UserName: 'pager-a', MaxItems: 1 }));
    assert.equal(first.AccessKeyMetadata?.length, 1);
    assert.equal(first.IsTruncated, true);
    const second = await iam.send(new ListAccessKeysCommand({ UserName: 'pager-a', MaxItems: 1, Marker: first.Marker }));
    assert.equal(second.AccessKeyMetadata?.length, 1);
    assert.equal(second.IsTruncated, false);
    assert.notEqual(second.AccessKeyMetadata![0]!.AccessKeyId, first.AccessKeyMetadata![0]!.AccessKeyId);
  });

  it('boto3 paginators over every IAM list, one item per page', async () => {
    const script = `
import boto3, json
iam = boto3.client('iam')
def collect(operation, key, **params):
    items, pages = [], 0
    for page in iam.get_paginator(operation).paginate(PaginationConfig={'PageSize': 1}, **params):
        pages += 1
        items += page[key]
    return {'pages': pages, 'count': len(items)}
out = {
  'users': collect('list_users', 'Users', PathPrefix='/'),
  'roles': collect('list_roles', 'Roles'),
  'keys': collect('list_access_keys', 'AccessKeyMetadata', UserName='pager-a'),
  'user_policies': collect('list_user_policies', 'PolicyNames', UserName='pager-a'),
  'role_policies': collect('list_role_policies', 'PolicyNames', RoleName='pager-role-1'),
  'user_tags': collect('list_user_tags', 'Tags', UserName='pager-a'),
  'role_tags': collect('list_role_tags', 'Tags', RoleName='pager-role-1'),
  'details': collect('get_account_authorization_details', 'UserDetailList'),
  'simulation': collect('simulate_custom_policy', 'EvaluationResults', PolicyInputList=[${JSON.stringify(POLICY)}], ActionNames=['a:b', 'c:d', 'e:f']),
}
print(json.dumps(out))
`;
    const out = JSON.parse(await runPythonOk('paginate.py', script, { cwd, credentials: root, endpointUrl: server.url })) as Record<string, { pages: number; count: number }>;
    assert.deepEqual(out.users, { pages: 5, count: 5 });
    assert.deepEqual(out.roles, { pages: 3, count: 3 });
    assert.deepEqual(out.keys, { pages: 2, count: 2 });
    assert.deepEqual(out.user_policies, { pages: 3, count: 3 });
    assert.deepEqual(out.role_policies, { pages: 3, count: 3 });
    assert.deepEqual(out.user_tags, { pages: 3, count: 3 });
    assert.deepEqual(out.role_tags, { pages: 0 + 1, count: 0 });
    assert.deepEqual(out.details, { pages: 8, count: 5 }); // 5 users then 3 roles, one entry per page
    assert.deepEqual(out.simulation, { pages: 3, count: 3 });
  });

  it('aws iam list-users --max-items pages in the CLI (NextToken), and --page-size still lists all', async () => {
    const env = { cwd, credentials: root, region: 'us-east-1' };
    const first = JSON.parse(await shellOk(`aws iam list-users --max-items 2 --endpoint-url "${server.url}" --output json`, env)) as {
      Users: Array<{ UserName: string }>;
      NextToken?: string;
    };
    assert.deepEqual(first.Users.map((user) => user.UserName), ['pager-a', 'pager-b']);
    assert.ok(first.NextToken);
    const rest = JSON.parse(await shellOk(`aws iam list-users --starting-token ${first.NextToken} --endpoint-url "${server.url}" --output json`, env)) as {
      Users: Array<{ UserName: string }>;
    };
    assert.deepEqual(rest.Users.map((user) => user.UserName), ['pager-c', 'pager-d', 'pager-e']);
    const all = JSON.parse(await shellOk(`aws iam list-users --page-size 1 --endpoint-url "${server.url}" --output json`, env)) as { Users: unknown[] };
    assert.equal(all.Users.length, 5);
  });

  it('GetAccountAuthorizationDetails: users and roles with their inline policies and tags; Filter; paging', async () => {
    const iam = iamClient(server, root);
    const all = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    assert.equal(all.IsTruncated, false);
    assert.deepEqual(all.UserDetailList?.map((user) => user.UserName), userNames);
    assert.deepEqual(all.RoleDetailList?.map((role) => role.RoleName), ['pager-role-1', 'pager-role-2', 'pager-role-3']);
    assert.deepEqual(all.GroupDetailList ?? [], []);
    assert.deepEqual(all.Policies ?? [], []);
    const a = all.UserDetailList![0]!;
    assert.deepEqual(a.UserPolicyList?.map((policy) => policy.PolicyName), ['p1', 'p2', 'p3']);
    assert.equal(decodeURIComponent(a.UserPolicyList![0]!.PolicyDocument!), POLICY);
    assert.deepEqual(a.Tags?.map((tag) => tag.Key), ['t1', 't2', 't3']);
    const role = all.RoleDetailList![0]!;
    assert.deepEqual(role.RolePolicyList?.map((policy) => policy.PolicyName), ['r1', 'r2', 'r3']);
    assert.match(decodeURIComponent(role.AssumeRolePolicyDocument!), /sts:AssumeRole/);

    const rolesOnly = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }));
    assert.deepEqual(rolesOnly.UserDetailList ?? [], []);
    assert.equal(rolesOnly.RoleDetailList?.length, 3);

    const page = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 6 }));
    assert.equal(page.IsTruncated, true);
    assert.equal(page.UserDetailList?.length, 5);
    assert.equal(page.RoleDetailList?.length, 1);
    const next = await iam.send(new GetAccountAuthorizationDetailsCommand({ MaxItems: 6, Marker: page.Marker }));
    assert.deepEqual(next.RoleDetailList?.map((detail) => detail.RoleName), ['pager-role-2', 'pager-role-3']);
    assert.equal(next.IsTruncated, false);
  });

  it('GetAccountAuthorizationDetails needs iam:GetAccountAuthorizationDetails', async () => {
    const user = await createUser(server, root, 'no-details');
    await assert.rejects(iamClient(server, user.keys).send(new GetAccountAuthorizationDetailsCommand({})), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, /iam:GetAccountAuthorizationDetails/);
      return true;
    });
  });
});
