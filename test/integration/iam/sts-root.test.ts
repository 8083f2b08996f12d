import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetAccessKeyInfoCommand, GetSessionTokenCommand, type Credentials } from '@aws-sdk/client-sts';
import { shell } from '../../helpers/aws-cli.js';
import { auditEvents } from '../../helpers/audit.js';
import { createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { runPython } from '../../helpers/python.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * AWS's answers to two kinds of caller STS and IAM refuse by who they are, not by policy: an account root calling
 * AssumeRole, and GetSessionToken's credentials (without MFA) calling IAM or STS.
 */
const ROOT_REFUSAL = 'Roles may not be assumed by root accounts.';

function keysOf(credentials: Credentials): Keys {
  return { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
}

function rejectsWith(promise: Promise<unknown>, name: string, status: number, message: RegExp) {
  return assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    assert.match(error.message, message);
    return true;
  });
}

describe('AssumeRole refuses account roots; GetSessionToken sessions are refused IAM and most of STS', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let roleArn: string;
  let workDir: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-sts-root-'));
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] };
    roleArn = (await createRole(server, root, 'trusts-the-account', trust)).arn;
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("an account root's long-term key may not assume a role, even one that trusts its account; a missing role gets the same answer", async () => {
    const sts = stsClient(server, root);
    await rejectsWith(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'as-root' })), 'AccessDenied', 403, new RegExp(`^${ROOT_REFUSAL.replace('.', '\\.')}$`));
    await rejectsWith(
      sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/does-not-exist`, RoleSessionName: 'as-root' })),
      'AccessDenied',
      403,
      /^Roles may not be assumed by root accounts\.$/,
    );
    // A user of the account, allowed by its policy, assumes the same role.
    const user = await createUser(server, root, 'may-assume', { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }] } });
    const assumed = await stsClient(server, user.keys).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'as-user' }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/trusts-the-account/as-user`);

    const refused = auditEvents(server.dataDir).filter((event) => event.eventName === 'AssumeRole' && event.errorCode !== undefined);
    const event = refused.find((candidate) => candidate.requestParameters?.RoleSessionName === 'as-root');
    assert.ok(event, 'the refusal is audited');
    assert.equal(event.errorCode, 'AccessDenied');
    assert.equal(event.errorMessage, ROOT_REFUSAL);
    assert.equal(event.userIdentity.arn, `arn:aws:iam::${accountId}:root`);
  });

  it("a root's session from GetSessionToken may not assume a role either", async () => {
    const session = keysOf((await stsClient(server, root).send(new GetSessionTokenCommand({}))).Credentials!);
    await rejectsWith(stsClient(server, session).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'root-session' })), 'AccessDenied', 403, /^Roles may not be assumed by root accounts\.$/);
  });

  it('the AWS CLI and boto3 as the root see AccessDenied with AWS’s message', async () => {
    const cli = await shell(`aws sts assume-role --role-arn ${roleArn} --role-session-name cli-root --endpoint-url "$COFFER_URL"`, {
      cwd: workDir,
      credentials: root,
      region: 'us-east-1',
      env: { COFFER_URL: server.url },
    });
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /\(AccessDenied\) when calling the AssumeRole operation: Roles may not be assumed by root accounts\./);

    const script = [
      'import boto3, botocore.exceptions, json',
      'try:',
      `    boto3.client("sts").assume_role(RoleArn="${roleArn}", RoleSessionName="boto-root")`,
      '    print(json.dumps({"assumed": True}))',
      'except botocore.exceptions.ClientError as error:',
      '    print(json.dumps(error.response["Error"]))',
    ].join('\n');
    const result = await runPython('root-assume.py', script, { cwd: workDir, credentials: root, endpointUrl: server.url });
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { Code?: string; Message?: string };
    assert.equal(answer.Code, 'AccessDenied');
    assert.equal(answer.Message, ROOT_REFUSAL);
  });

  it("a user's GetSessionToken session: IAM answers InvalidClientTokenId (no MFA), STS AccessDenied; AssumeRole still works", async () => {
    const user = await createUser(server, root, 'session-user', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['iam:ListRoles', 'sts:GetAccessKeyInfo', 'sts:AssumeRole'], Resource: '*' }] },
    });
    // The long-term key may list roles: the refusal below is about the credentials, not the policy.
    await iamClient(server, user.keys).send(new ListRolesCommand({}));
    const session = keysOf((await stsClient(server, user.keys).send(new GetSessionTokenCommand({}))).Credentials!);
    await rejectsWith(iamClient(server, session).send(new ListRolesCommand({})), 'InvalidClientTokenId', 403, /^The security token included in the request is invalid$/);
    await rejectsWith(
      stsClient(server, session).send(new GetAccessKeyInfoCommand({ AccessKeyId: user.keys.accessKeyId })),
      'AccessDenied',
      403,
      /^Cannot call GetAccessKeyInfo with session credentials$/,
    );
    const assumed = await stsClient(server, session).send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'from-user-session' }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/trusts-the-account/from-user-session`);

    // Both refusals are audited with the code the client saw.
    const events = auditEvents(server.dataDir).filter((event) => event.userIdentity?.accessKeyId === session.accessKeyId && event.errorCode !== undefined);
    assert.deepEqual(
      events.map((event) => [event.eventName, event.errorCode, event.errorMessage]),
      [
        ['ListRoles', 'InvalidClientTokenId', 'The security token included in the request is invalid'],
        ['GetAccessKeyInfo', 'AccessDenied', 'Cannot call GetAccessKeyInfo with session credentials'],
      ],
    );
  });
});
