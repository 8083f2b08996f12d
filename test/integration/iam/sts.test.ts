import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListSecretsCommand, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { createAuthenticator, createCredentials } from '../../../src/auth/index.js';
import { AwsError } from '../../../src/core/index.js';
import { Keyring } from '../../../src/crypto/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { ManualClock } from '../../helpers/clock.js';
import { assumeRole, createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { runPython } from '../../helpers/python.js';
import { secretsClient } from '../../helpers/secrets.js';
import { signedHeaders } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const LIST_SECRETS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }] };

function trusting(principal: string) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }] };
}

function mayAssume(roleArn: string) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }] };
}

function rejectsAccessDenied(promise: Promise<unknown>, pattern: RegExp) {
  return assert.rejects(promise, (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, 'AccessDenied');
    assert.match(error.message, pattern);
    assert.equal(error.$metadata?.httpStatusCode, 403);
    return true;
  });
}

describe('STS: GetCallerIdentity and AssumeRole', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let workDir: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-sts-'));
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('GetCallerIdentity needs no permission and names the root, a user (AIDA id) and a role session', async () => {
    const ofRoot = await stsClient(server, root).send(new GetCallerIdentityCommand({}));
    assert.deepEqual({ Account: ofRoot.Account, Arn: ofRoot.Arn, UserId: ofRoot.UserId }, { Account: accountId, Arn: `arn:aws:iam::${accountId}:root`, UserId: accountId });

    const plain = await createUser(server, root, 'plain');
    const ofUser = await stsClient(server, plain.keys).send(new GetCallerIdentityCommand({}));
    assert.equal(ofUser.Arn, plain.arn);
    assert.match(ofUser.UserId!, /^AIDA[A-Z2-7]{17}$/);
  });

  it('a user allowed sts:AssumeRole on a role that trusts its account gets working temporary credentials', async () => {
    const role = await createRole(server, root, 'reader-role', trusting(`arn:aws:iam::${accountId}:root`), LIST_SECRETS);
    const user = await createUser(server, root, 'assumer', { policy: mayAssume(role.arn) });

    const assumed = await stsClient(server, user.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'batch-job', DurationSeconds: 900 }));
    const credentials = assumed.Credentials!;
    assert.match(credentials.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
    assert.ok(credentials.SessionToken && credentials.SessionToken.length > 100);
    const lifetimeMs = credentials.Expiration!.getTime() - Date.now();
    assert.ok(lifetimeMs > 800_000 && lifetimeMs <= 901_000, `expires in ${lifetimeMs} ms`);
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/reader-role/batch-job`);
    assert.match(assumed.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:batch-job$/);

    const session: Keys = { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
    const identity = await stsClient(server, session).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, `arn:aws:sts::${accountId}:assumed-role/reader-role/batch-job`);
    assert.equal(identity.UserId, assumed.AssumedRoleUser?.AssumedRoleId);

    // The session has the role's permissions: it lists, and may not create.
    await secretsClient(server, { credentials: session }).send(new ListSecretsCommand({}));
    await assert.rejects(secretsClient(server, { credentials: session }).send(new CreateSecretCommand({ Name: 'nope', SecretString: 'x' })), (error: Error) => {
      assert.equal(error.name, 'AccessDeniedException');
      assert.match(error.message, new RegExp(`^User: arn:aws:sts::${accountId}:assumed-role/reader-role/batch-job is not authorized to perform: secretsmanager:CreateSecret`));
      return true;
    });
  });

  it('session keys work only with their session token: missing or wrong token is refused', async () => {
    const role = await createRole(server, root, 'token-role', trusting(`arn:aws:iam::${accountId}:root`), LIST_SECRETS);
    const session = await assumeRole(server, root, role.arn);
    await secretsClient(server, { credentials: session }).send(new ListSecretsCommand({}));
    const withoutToken = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey };
    await assert.rejects(secretsClient(server, { credentials: withoutToken }).send(new ListSecretsCommand({})), {
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    const wrongToken = { ...withoutToken, sessionToken: randomBytes(96).toString('base64') };
    await assert.rejects(secretsClient(server, { credentials: wrongToken }).send(new ListSecretsCommand({})), { name: 'UnrecognizedClientException' });
    // Over the Query protocol the same refusal is IAM's InvalidClientTokenId.
    await assert.rejects(stsClient(server, withoutToken).send(new GetCallerIdentityCommand({})), { name: 'InvalidClientTokenId' });
  });

  it('the caller needs sts:AssumeRole when the trust policy names only its account, and the trust policy must allow it', async () => {
    const role = await createRole(server, root, 'guarded', trusting(`arn:aws:iam::${accountId}:root`), LIST_SECRETS);
    const noPolicy = await createUser(server, root, 'no-policy');
    await rejectsAccessDenied(
      stsClient(server, noPolicy.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 's1' })),
      new RegExp(`^User: arn:aws:iam::${accountId}:user/no-policy is not authorized to perform: sts:AssumeRole on resource: ${role.arn}`),
    );

    const untrusted = await createRole(server, root, 'trusts-someone-else', trusting(`arn:aws:iam::${accountId}:user/someone-else`), LIST_SECRETS);
    const allowed = await createUser(server, root, 'allowed-but-untrusted', { policy: mayAssume(untrusted.arn) });
    await rejectsAccessDenied(stsClient(server, allowed.keys).send(new AssumeRoleCommand({ RoleArn: untrusted.arn, RoleSessionName: 's2' })), /sts:AssumeRole/);

    // A role that does not exist is refused the same way.
    await rejectsAccessDenied(
      stsClient(server, allowed.keys).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/missing`, RoleSessionName: 's3' })),
      /sts:AssumeRole on resource: arn:aws:iam::\d{12}:role\/missing/,
    );
  });

  it('UpdateAssumeRolePolicy changes who may assume the role, from the next call on', async () => {
    const user = await createUser(server, root, 'later-trusted');
    const role = await createRole(server, root, 'changing-trust', trusting(`arn:aws:iam::${accountId}:user/someone-else`), LIST_SECRETS);
    await rejectsAccessDenied(stsClient(server, user.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'before' })), /sts:AssumeRole/);
    await iamClient(server, root).send(new UpdateAssumeRolePolicyCommand({ RoleName: 'changing-trust', PolicyDocument: JSON.stringify(trusting(user.arn)) }));
    const session = await assumeRole(server, user.keys, role.arn, 'after');
    await secretsClient(server, { credentials: session }).send(new ListSecretsCommand({}));
  });

  it('a trust policy condition on sts:ExternalId admits only callers that send it', async () => {
    const other = await createAccount(server);
    const trust = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: other.accountId }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'partner-7' } } },
      ],
    };
    const role = await createRole(server, root, 'external-id-role', trust, LIST_SECRETS);
    const partner = await createUser(server, other.root, 'ext-partner', { policy: mayAssume(role.arn) });
    const sts = stsClient(server, partner.keys);
    await rejectsAccessDenied(sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'no-id' })), /sts:AssumeRole/);
    await rejectsAccessDenied(sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'bad-id', ExternalId: 'partner-8' })), /sts:AssumeRole/);
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'good-id', ExternalId: 'partner-7' }));
    assert.equal(assumed.AssumedRoleUser?.Arn, `arn:aws:sts::${accountId}:assumed-role/external-id-role/good-id`);
    // Session policies, tags and SourceIdentity: test/integration/iam/sts-session-attributes.test.ts.
  });

  it('a trust policy naming the user itself suffices within the account (AWS: no identity policy needed)', async () => {
    const user = await createUser(server, root, 'named-in-trust');
    const role = await createRole(server, root, 'names-user', trusting(user.arn), LIST_SECRETS);
    const session = await assumeRole(server, user.keys, role.arn, 'direct');
    await secretsClient(server, { credentials: session }).send(new ListSecretsCommand({}));
  });

  it('cross-account: the role trusts the other account and that account allows its user; either side missing is denied', async () => {
    const other = await createAccount(server);
    const role = await createRole(server, root, 'shared', trusting(`arn:aws:iam::${other.accountId}:root`), LIST_SECRETS);
    const permitted = await createUser(server, other.root, 'partner', { policy: mayAssume(role.arn) });
    const session = await assumeRole(server, permitted.keys, role.arn, 'partner-session');
    const identity = await stsClient(server, session).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Account, accountId);
    assert.equal(identity.Arn, `arn:aws:sts::${accountId}:assumed-role/shared/partner-session`);

    const unpermitted = await createUser(server, other.root, 'partner-without-policy');
    await rejectsAccessDenied(stsClient(server, unpermitted.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'x1' })), /sts:AssumeRole/);

    const third = await createAccount(server);
    const outsider = await createUser(server, third.root, 'outsider', { policy: mayAssume(role.arn) });
    await rejectsAccessDenied(stsClient(server, outsider.keys).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'x2' })), /sts:AssumeRole/);
  });

  it('DurationSeconds is limited by the role’s MaxSessionDuration and by AWS’s minimum', async () => {
    const role = await createRole(server, root, 'short-sessions', trusting(`arn:aws:iam::${accountId}:root`));
    const caller = (await createUser(server, root, 'duration-assumer', { policy: mayAssume(role.arn) })).keys;
    await assert.rejects(stsClient(server, caller).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'long', DurationSeconds: 7200 })), {
      name: 'ValidationError',
    });
    await assert.rejects(stsClient(server, caller).send(new AssumeRoleCommand({ RoleArn: role.arn, RoleSessionName: 'short', DurationSeconds: 60 })), {
      name: 'ValidationError',
    });
  });

  it('the AWS CLI: aws sts assume-role, then aws sts get-caller-identity with the session in the environment', async () => {
    const role = await createRole(server, root, 'cli-role', trusting(`arn:aws:iam::${accountId}:root`), LIST_SECRETS);
    const caller = (await createUser(server, root, 'cli-assumer', { policy: mayAssume(role.arn) })).keys;
    const options = { cwd: workDir, credentials: caller, region: 'us-east-1', env: { COFFER_URL: server.url } };
    const assumed = JSON.parse(await shellOk(`aws sts assume-role --role-arn ${role.arn} --role-session-name cli-session --endpoint-url "$COFFER_URL"`, options)) as {
      Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    };
    const sessionEnv = {
      COFFER_URL: server.url,
      AWS_ACCESS_KEY_ID: assumed.Credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: assumed.Credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: assumed.Credentials.SessionToken,
    };
    const identity = JSON.parse(await shellOk('aws sts get-caller-identity --endpoint-url "$COFFER_URL"', { cwd: workDir, region: 'us-east-1', env: sessionEnv })) as {
      Arn: string;
      Account: string;
    };
    assert.equal(identity.Arn, `arn:aws:sts::${accountId}:assumed-role/cli-role/cli-session`);
    assert.equal(identity.Account, accountId);
    const listed = await shell('aws secretsmanager list-secrets --endpoint-url "$COFFER_URL"', { cwd: workDir, region: 'us-east-1', env: sessionEnv });
    assert.equal(listed.code, 0, listed.stderr);
  });

  it('boto3: sts.assume_role, then a Secrets Manager client with the session credentials', async () => {
    const role = await createRole(server, root, 'boto-role', trusting(`arn:aws:iam::${accountId}:root`), LIST_SECRETS);
    const caller = (await createUser(server, root, 'boto-assumer', { policy: mayAssume(role.arn) })).keys;
    const script = [
      'import boto3, json, sys',
      'sts = boto3.client("sts")',
      `creds = sts.assume_role(RoleArn="${role.arn}", RoleSessionName="boto")["Credentials"]`,
      'session = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])',
      'who = boto3.client("sts", **session).get_caller_identity()',
      'boto3.client("secretsmanager", **session).list_secrets()',
      'print(json.dumps({"Arn": who["Arn"]}))',
    ].join('\n');
    const result = await runPython('assume.py', script, { cwd: workDir, credentials: caller, endpointUrl: server.url });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { Arn: string }).Arn, `arn:aws:sts::${accountId}:assumed-role/boto-role/boto`);
  });
});

describe('STS session keys expire', () => {
  let dir: string;
  let store: SqliteStore;
  let keyring: Keyring;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-sts-expiry-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    await store.migrate();
    keyring = new Keyring(randomBytes(32));
  });
  after(async () => {
    await store.close();
    keyring.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request signed with a session key and its token is accepted before the expiry and refused with ExpiredTokenException after', async () => {
    const clock = new ManualClock(new Date());
    const credentials = createCredentials({ store, keyring, devMode: false, clock });
    const session = await credentials.createSessionAccessKey('123456789012', 'arn:aws:sts::123456789012:assumed-role/r/s', 900_000);
    assert.equal(JSON.stringify(session.sessionToken), '"[redacted]"');
    const signedAt = clock.now();
    // The signer adds X-Amz-Security-Token for credentials with a session token.
    const sessionKeys = { accessKeyId: session.accessKeyId, secretAccessKey: session.secretAccessKey.reveal(), sessionToken: session.sessionToken.reveal() };
    const headers = await signedHeaders('http://127.0.0.1:1', {
      target: 'secretsmanager.ListSecrets',
      service: 'secretsmanager',
      credentials: sessionKeys,
      signingDate: signedAt,
    });
    const request = { method: 'POST', path: '/', query: '', headers: { ...headers, host: '127.0.0.1:1' }, body: Buffer.from('{}') };
    const authenticate = createAuthenticator(credentials);
    const accepted = await authenticate(request, new Date(signedAt.getTime() + 1000));
    assert.equal(accepted.principal.arn, 'arn:aws:sts::123456789012:assumed-role/r/s');
    await assert.rejects(authenticate(request, new Date(signedAt.getTime() + 900_000)), (error: unknown) => {
      assert.ok(error instanceof AwsError);
      assert.equal(error.code, 'ExpiredTokenException');
      assert.equal(error.message, 'The security token included in the request is expired');
      return true;
    });
  });
});
