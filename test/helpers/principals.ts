import assert from 'node:assert/strict';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { TestServer } from './start-server.js';

/**
 * Principals for tests, made the way an AWS user makes them: accounts through Coffer (`coffer accounts create`
 * does the same), users, roles, inline policies and keys through the IAM API, sessions through STS.
 */
export type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const REGION = 'us-east-1';

export function iamClient(server: TestServer, credentials: Keys): IAMClient {
  return new IAMClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
}

export function stsClient(server: TestServer, credentials: Keys): STSClient {
  return new STSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
}

/** A new account with an access key of its root user (unrestricted in its own account). */
export async function createAccount(server: TestServer): Promise<{ accountId: string; root: Keys }> {
  const { accountId, accessKeyId, secretAccessKey } = await server.server.coffer.accounts.create();
  return { accountId, root: { accessKeyId, secretAccessKey } };
}

function policyText(policy: object | string): string {
  return typeof policy === 'string' ? policy : JSON.stringify(policy);
}

/** CreateUser (with tags), PutUserPolicy (when a policy is given, named `inline`), CreateAccessKey. */
export async function createUser(
  server: TestServer,
  owner: Keys,
  userName: string,
  options: { policy?: object | string; tags?: Record<string, string> } = {},
): Promise<{ arn: string; keys: Keys }> {
  const iam = iamClient(server, owner);
  try {
    const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const created = await iam.send(new CreateUserCommand({ UserName: userName, Tags: tags.length > 0 ? tags : undefined }));
    if (options.policy !== undefined) {
      await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: 'inline', PolicyDocument: policyText(options.policy) }));
    }
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    return { arn: created.User!.Arn!, keys: { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! } };
  } finally {
    iam.destroy();
  }
}

/** CreateRole with the trust policy, and PutRolePolicy (named `inline`) when a policy is given. */
export async function createRole(server: TestServer, owner: Keys, roleName: string, trustPolicy: object, policy?: object): Promise<{ arn: string }> {
  const iam = iamClient(server, owner);
  try {
    const created = await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: JSON.stringify(trustPolicy) }));
    if (policy !== undefined) {
      await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'inline', PolicyDocument: JSON.stringify(policy) }));
    }
    return { arn: created.Role!.Arn! };
  } finally {
    iam.destroy();
  }
}

/** Per root key: the keys of the IAM user that assumes roles for it (see assumeRole). */
const assumers = new Map<string, Promise<Keys>>();

/**
 * The keys that call AssumeRole for `caller`: the caller itself, or for an account's root (which AWS does not let
 * assume roles) a user `role-assumer` of its account allowed sts:AssumeRole on every role, made once per root key.
 * A trust policy naming the account (its root ARN) lets that user in through its identity policy.
 */
async function assumerFor(server: TestServer, caller: Keys): Promise<Keys> {
  const sts = stsClient(server, caller);
  let arn: string;
  try {
    arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn!;
  } finally {
    sts.destroy();
  }
  if (!arn.endsWith(':root')) return caller;
  let assumer = assumers.get(`${server.url} ${caller.accessKeyId}`);
  if (!assumer) {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] };
    assumer = createUser(server, caller, `role-assumer-${caller.accessKeyId.slice(-6).toLowerCase()}`, { policy }).then((user) => user.keys);
    assumers.set(`${server.url} ${caller.accessKeyId}`, assumer);
  }
  return assumer;
}

/**
 * STS AssumeRole: the session's temporary keys, with their session token. An account root's key is replaced by a
 * user of the account allowed sts:AssumeRole (AWS refuses roots: "Roles may not be assumed by root accounts.").
 */
export async function assumeRole(server: TestServer, caller: Keys, roleArn: string, sessionName = 'test-session'): Promise<Keys> {
  const sts = stsClient(server, await assumerFor(server, caller));
  try {
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }));
    const credentials = assumed.Credentials!;
    return { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
  } finally {
    sts.destroy();
  }
}

/** The trust policy of a role that Lambda (here: Coffer's hosted functions) assumes to run a function. */
export const LAMBDA_TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/**
 * A function's execution role, as an AWS user creates one before CreateFunction: trusted by Lambda, with an
 * inline policy allowing `actions` on every resource. Created by `owner` (default: the server's administrator).
 */
export async function createExecutionRole(server: TestServer, roleName: string, actions: string[], owner: Keys = server.admin): Promise<{ arn: string }> {
  return createRole(server, owner, roleName, LAMBDA_TRUST_POLICY, {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
  });
}

/** The SDK's error a refused call threw, for assertions on its name and message; fails when the call succeeds. */
export async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the call to be refused');
}
