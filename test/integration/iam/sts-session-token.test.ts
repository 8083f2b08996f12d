import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { GetUserCommand, ListUsersCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetAccessKeyInfoCommand, GetCallerIdentityCommand, GetSessionTokenCommand, type Credentials } from '@aws-sdk/client-sts';
import { shellOk } from '../../helpers/aws-cli.js';
import { auditEvents, auditRows, withDatabase } from '../../helpers/audit.js';
import { createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

function keysOf(credentials: Credentials): Keys {
  return { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
}

function lifetimeSeconds(credentials: Credentials): number {
  return (credentials.Expiration!.getTime() - Date.now()) / 1000;
}

function rejectsWith(promise: Promise<unknown>, name: string, status: number, message?: RegExp) {
  return assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name, error.message);
    assert.equal(error.$metadata?.httpStatusCode, status);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('STS: GetSessionToken and GetAccessKeyInfo', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let workDir: string;
  let secretArn: string;
  let reader: { arn: string; keys: Keys };

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-sts-session-'));
    const secret = await secretsClient(server, { credentials: root }).send(new CreateSecretCommand({ Name: 'session-secret', SecretString: 'the-value' }));
    secretArn = secret.ARN!;
    reader = await createUser(server, root, 'reader', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
          { Effect: 'Allow', Action: ['iam:GetUser', 'iam:ListUsers', 'sts:GetAccessKeyInfo'], Resource: '*' },
        ],
      },
    });
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("a user's session acts as the user: reads the secret, is the user for GetCallerIdentity, and is refused IAM and GetSessionToken", async () => {
    const issued = await stsClient(server, reader.keys).send(new GetSessionTokenCommand({}));
    const credentials = issued.Credentials!;
    assert.match(credentials.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(credentials.SessionToken && credentials.SessionToken.length > 100);
    const lifetime = lifetimeSeconds(credentials);
    assert.ok(lifetime > 43100 && lifetime <= 43201, `default lifetime ${lifetime} s`);
    const session = keysOf(credentials);

    const identity = await stsClient(server, session).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, reader.arn);
    assert.equal(identity.Account, accountId);
    const value = await secretsClient(server, { credentials: session }).send(new GetSecretValueCommand({ SecretId: secretArn }));
    assert.equal(value.SecretString, 'the-value');
    // The user's own permissions, no more.
    await rejectsWith(secretsClient(server, { credentials: session }).send(new ListSecretsCommand({})), 'AccessDeniedException', 400, new RegExp(`^User: ${reader.arn} is not authorized`));

    // The long-term keys may call IAM; the session may not, though the same policies allow it.
    await iamClient(server, reader.keys).send(new GetUserCommand({ UserName: 'reader' }));
    // IAM answers such a session as AWS does without MFA: as an invalid token.
    await rejectsWith(iamClient(server, session).send(new GetUserCommand({ UserName: 'reader' })), 'InvalidClientTokenId', 403, /^The security token included in the request is invalid$/);
    await rejectsWith(iamClient(server, session).send(new ListUsersCommand({})), 'InvalidClientTokenId', 403);
    await rejectsWith(
      stsClient(server, session).send(new GetSessionTokenCommand({})),
      'AccessDenied',
      403,
      /^Cannot call GetSessionToken with session credentials$/,
    );
    await rejectsWith(stsClient(server, session).send(new GetAccessKeyInfoCommand({ AccessKeyId: reader.keys.accessKeyId })), 'AccessDenied', 403);
  });

  it('session credentials from AssumeRole cannot call GetSessionToken either; a role session still calls IAM', async () => {
    const role = await createRole(
      server,
      root,
      'session-role',
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] },
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:ListUsers', Resource: '*' }] },
    );
    const assumer = await createUser(server, root, 'session-role-assumer', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.arn }] },
    });
    const assumed = await stsClient(server, assumer.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'role-session' }));
    const roleSession = keysOf(assumed.Credentials!);
    await rejectsWith(stsClient(server, roleSession).send(new GetSessionTokenCommand({})), 'AccessDenied', 403, /^Cannot call GetSessionToken with session credentials$/);
    await iamClient(server, roleSession).send(new ListUsersCommand({}));
  });

  it("DurationSeconds is 900–129600; an account root's session is capped at one hour; MFA is refused", async () => {
    const sts = stsClient(server, reader.keys);
    await rejectsWith(sts.send(new GetSessionTokenCommand({ DurationSeconds: 899 })), 'ValidationError', 400, /durationSeconds/);
    await rejectsWith(sts.send(new GetSessionTokenCommand({ DurationSeconds: 129601 })), 'ValidationError', 400, /durationSeconds/);
    const shortest = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.ok(Math.abs(lifetimeSeconds(shortest.Credentials!) - 900) < 5);
    const longest = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 129600 }));
    assert.ok(Math.abs(lifetimeSeconds(longest.Credentials!) - 129600) < 5);

    const ofRoot = await stsClient(server, root).send(new GetSessionTokenCommand({ DurationSeconds: 7200 }));
    assert.ok(Math.abs(lifetimeSeconds(ofRoot.Credentials!) - 3600) < 5, 'the root session is clamped to 3600 s');
    const rootIdentity = await stsClient(server, keysOf(ofRoot.Credentials!)).send(new GetCallerIdentityCommand({}));
    assert.equal(rootIdentity.Arn, `arn:aws:iam::${accountId}:root`);

    await rejectsWith(
      sts.send(new GetSessionTokenCommand({ SerialNumber: `arn:aws:iam::${accountId}:mfa/reader`, TokenCode: '123456' })),
      'InvalidParameterValue',
      400,
      /MFA/,
    );
  });

  it('GetAccessKeyInfo answers the account of a known long-term or session key, of any account, and refuses an unknown one', async () => {
    const sts = stsClient(server, reader.keys);
    assert.equal((await sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: reader.keys.accessKeyId }))).Account, accountId);
    const session = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.equal((await sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: session.Credentials!.AccessKeyId! }))).Account, accountId);
    const other = await createAccount(server);
    assert.notEqual(other.accountId, accountId);
    assert.equal((await sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: other.root.accessKeyId }))).Account, other.accountId);

    await rejectsWith(sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: 'AKIAAAAAAAAAAAAAAAAA' })), 'InvalidParameterValue', 400);
    await rejectsWith(sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: 'short' })), 'ValidationError', 400);
    // It needs sts:GetAccessKeyInfo.
    const unprivileged = await createUser(server, root, 'no-key-info');
    await rejectsWith(
      stsClient(server, unprivileged.keys).send(new GetAccessKeyInfoCommand({ AccessKeyId: reader.keys.accessKeyId })),
      'AccessDenied',
      403,
      /sts:GetAccessKeyInfo/,
    );
  });

  it('an expired session is refused with ExpiredToken; the secret and token are not in the audit log', async () => {
    const issued = await stsClient(server, reader.keys).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const session = keysOf(issued.Credentials!);
    await secretsClient(server, { credentials: session }).send(new GetSecretValueCommand({ SecretId: secretArn }));
    // The server's credential expiry runs on wall-clock time (no injected clock): the stored expiry is moved instead.
    const changed = withDatabase(server.dataDir, (db) =>
      db.prepare('UPDATE access_keys SET expires_at = ? WHERE access_key_id = ?').run(Date.now() - 1000, session.accessKeyId).changes,
    );
    assert.equal(changed, 1);
    await rejectsWith(secretsClient(server, { credentials: session }).send(new GetSecretValueCommand({ SecretId: secretArn })), 'ExpiredTokenException', 400);
    await rejectsWith(stsClient(server, session).send(new GetCallerIdentityCommand({})), 'ExpiredToken', 400);

    const event = auditEvents(server.dataDir).find((candidate) => candidate.eventName === 'GetSessionToken' && candidate.errorCode === undefined);
    assert.equal(event?.userIdentity.arn, reader.arn, 'GetSessionToken is recorded');
    const everything = auditRows(server.dataDir).map((row) => row.body).join('\n');
    assert.ok(!everything.includes(session.secretAccessKey), 'the session secret is in the audit log');
    assert.ok(!everything.includes(session.sessionToken!), 'the session token is in the audit log');
  });

  it('AWS CLI: aws sts get-session-token, then the session reads the secret', async () => {
    const options = { cwd: workDir, region: 'us-east-1', credentials: reader.keys, env: { COFFER_URL: server.url } };
    const issued = JSON.parse(await shellOk('aws sts get-session-token --duration-seconds 900 --endpoint-url "$COFFER_URL"', options)) as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
    };
    assert.match(issued.Credentials.AccessKeyId, /^ASIA/);
    const value = await secretsClient(server, { credentials: keysOf({ ...issued.Credentials, Expiration: new Date(issued.Credentials.Expiration) }) }).send(
      new GetSecretValueCommand({ SecretId: secretArn }),
    );
    assert.equal(value.SecretString, 'the-value');
  });
});
