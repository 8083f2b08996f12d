import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateOpenIDConnectProviderCommand, DeleteOpenIDConnectProviderCommand, PutRolePolicyCommand, CreateRoleCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTokenFile } from '@aws-sdk/credential-providers';
import { auditEvents } from '../../helpers/audit.js';
import { shell } from '../../helpers/aws-cli.js';
import { childEnv, REPO_ROOT } from '../../helpers/child-server.js';
import { startTestIssuer, type TestIssuer } from '../../helpers/oidc-issuer.js';
import { createAccount, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const REGION = 'us-east-1';
const AUDIENCE = 'coffer-test';
const SUBJECT = 'system:serviceaccount:apps:reader';

/** A trust policy letting the provider's tokens for `subject` (and audience) assume the role. */
function trustingProvider(providerArn: string, host: string, conditions: Record<string, string> = { [`${host}:sub`]: SUBJECT, [`${host}:aud`]: AUDIENCE }, actions: string[] = ['sts:AssumeRoleWithWebIdentity']) {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: actions, Condition: { StringEquals: conditions } }],
  };
}

function readOnly(secretArn: string) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn }] };
}

/** An STS client with no credentials at all: AssumeRoleWithWebIdentity is sent unsigned, as the SDKs do. */
function anonymousSts(server: TestServer): STSClient {
  return new STSClient({ endpoint: server.url, region: REGION, maxAttempts: 1 });
}

async function refused(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, code, `${error.name}: ${error.message}`);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('STS AssumeRoleWithWebIdentity: workloads with an OIDC token and no access key', () => {
  let server: TestServer;
  let issuer: TestIssuer;
  let accountId: string;
  let root: Keys;
  let workDir: string;
  let providerArn: string;
  let roleArn: string;
  let allowedSecret: string;
  let deniedSecret: string;

  const claims = (extra: Record<string, unknown> = {}) => ({ sub: SUBJECT, aud: AUDIENCE, ...extra });
  const assume = (token: string, input: Partial<{ RoleArn: string; RoleSessionName: string; DurationSeconds: number; Policy: string }> = {}) =>
    anonymousSts(server).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'workload', WebIdentityToken: token, ...input }));

  before(async () => {
    server = await startTestServer({ devMode: true });
    issuer = await startTestIssuer();
    ({ accountId, root } = await createAccount(server));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-web-identity-'));
    const iam = iamClient(server, root);
    const created = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer.url, ClientIDList: [AUDIENCE] }));
    providerArn = created.OpenIDConnectProviderArn!;
    const secrets = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: root, maxAttempts: 1 });
    allowedSecret = (await secrets.send(new CreateSecretCommand({ Name: 'apps/reader/db', SecretString: 'allowed-value' }))).ARN!;
    deniedSecret = (await secrets.send(new CreateSecretCommand({ Name: 'apps/other/db', SecretString: 'denied-value' }))).ARN!;
    const role = await iam.send(new CreateRoleCommand({ RoleName: 'reader', AssumeRolePolicyDocument: JSON.stringify(trustingProvider(providerArn, issuer.host)) }));
    roleArn = role.Role!.Arn!;
    await iam.send(new PutRolePolicyCommand({ RoleName: 'reader', PolicyName: 'read', PolicyDocument: JSON.stringify(readOnly(allowedSecret)) }));
  });
  after(async () => {
    await server.cleanup();
    await issuer.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('the provider ARN is the issuer URL without its scheme', () => {
    assert.equal(providerArn, `arn:aws:iam::${accountId}:oidc-provider/${issuer.host}`);
  });

  it("the AWS SDK's web identity provider (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) reads the secret the role may read, and is refused the other", async () => {
    const tokenFile = join(workDir, 'sdk-token');
    writeFileSync(tokenFile, issuer.token(claims()));
    const saved = { file: process.env.AWS_WEB_IDENTITY_TOKEN_FILE, role: process.env.AWS_ROLE_ARN, session: process.env.AWS_ROLE_SESSION_NAME };
    process.env.AWS_WEB_IDENTITY_TOKEN_FILE = tokenFile;
    process.env.AWS_ROLE_ARN = roleArn;
    process.env.AWS_ROLE_SESSION_NAME = 'sdk-workload';
    try {
      const credentials = fromTokenFile({ clientConfig: { endpoint: server.url, region: REGION } });
      const secrets = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
      const value = await secrets.send(new GetSecretValueCommand({ SecretId: allowedSecret }));
      assert.equal(value.SecretString, 'allowed-value');
      await refused(secrets.send(new GetSecretValueCommand({ SecretId: deniedSecret })), 'AccessDeniedException', /assumed-role\/reader\/sdk-workload/);
      const identity = await new STSClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Arn, `arn:aws:sts::${accountId}:assumed-role/reader/sdk-workload`);
    } finally {
      restoreEnv('AWS_WEB_IDENTITY_TOKEN_FILE', saved.file);
      restoreEnv('AWS_ROLE_ARN', saved.role);
      restoreEnv('AWS_ROLE_SESSION_NAME', saved.session);
    }
  });

  it('boto3 and the AWS CLI, given only AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ENDPOINT_URL, read the allowed secret and are refused the other', async () => {
    const tokenFile = join(workDir, 'python-token');
    writeFileSync(tokenFile, issuer.token(claims()));
    // HOME in the scratch dir: the AWS CLI caches web identity credentials in ~/.aws/cli/cache, and a cached
    // session would answer for the token instead of Coffer.
    const env = { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: roleArn, AWS_ENDPOINT_URL: server.url, AWS_DEFAULT_REGION: REGION, AWS_MAX_ATTEMPTS: '1', HOME: workDir };
    writeFileSync(
      join(workDir, 'read.py'),
      [
        'import sys, boto3, botocore.exceptions',
        'client = boto3.client("secretsmanager")',
        'print(client.get_secret_value(SecretId=sys.argv[1])["SecretString"])',
        'try:',
        '    client.get_secret_value(SecretId=sys.argv[2])',
        '    print("NOT REFUSED")',
        'except botocore.exceptions.ClientError as error:',
        '    print(error.response["Error"]["Code"])',
      ].join('\n'),
    );
    const python = await shell(`python3 read.py '${allowedSecret}' '${deniedSecret}'`, { cwd: workDir, env });
    assert.equal(python.code, 0, python.stderr);
    assert.deepEqual(python.stdout.trim().split('\n'), ['allowed-value', 'AccessDeniedException']);

    // STS's wire codes, as boto3 reads them from the XML.
    writeFileSync(join(workDir, 'expired-token'), issuer.token(claims({ exp: Math.floor(Date.now() / 1000) - 600 })));
    writeFileSync(join(workDir, 'foreign-token'), issuer.token(claims({ aud: 'someone-else' })));
    writeFileSync(
      join(workDir, 'codes.py'),
      [
        'import sys, boto3, botocore, botocore.exceptions',
        'sts = boto3.client("sts", config=botocore.config.Config(signature_version=botocore.UNSIGNED))',
        'for name in sys.argv[2:]:',
        '    try:',
        '        sts.assume_role_with_web_identity(RoleArn=sys.argv[1], RoleSessionName="codes", WebIdentityToken=open(name).read())',
        '        print("NOT REFUSED")',
        '    except botocore.exceptions.ClientError as error:',
        '        print(error.response["Error"]["Code"])',
      ].join('\n'),
    );
    const codes = await shell(`python3 codes.py '${roleArn}' expired-token foreign-token`, { cwd: workDir, env });
    assert.equal(codes.code, 0, codes.stderr);
    assert.deepEqual(codes.stdout.trim().split('\n'), ['ExpiredTokenException', 'InvalidIdentityToken']);

    const cli = await shell(`aws secretsmanager get-secret-value --secret-id '${allowedSecret}' --query SecretString --output text`, { cwd: workDir, env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'allowed-value');
    const cliDenied = await shell(`aws secretsmanager get-secret-value --secret-id '${deniedSecret}'`, { cwd: workDir, env });
    assert.notEqual(cliDenied.code, 0);
    assert.match(cliDenied.stderr, /AccessDeniedException/);
  });

  it("answers AWS's shape: credentials, the token's subject, the provider, the audience, the assumed role", async () => {
    const answer = await assume(issuer.token(claims()), { DurationSeconds: 900 });
    assert.match(answer.Credentials!.AccessKeyId!, /^ASIA/);
    const lifetimeMs = answer.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(lifetimeMs > 800_000 && lifetimeMs <= 901_000, `expires in ${lifetimeMs} ms`);
    assert.equal(answer.SubjectFromWebIdentityToken, SUBJECT);
    assert.equal(answer.Provider, providerArn);
    assert.equal(answer.Audience, AUDIENCE);
    assert.equal(answer.AssumedRoleUser!.Arn, `arn:aws:sts::${accountId}:assumed-role/reader/workload`);
    assert.match(answer.AssumedRoleUser!.AssumedRoleId!, /^AROA[A-Z2-7]{17}:workload$/);
  });

  it('verifies RS256, RS512, PS256, ES256 and ES384 signatures, and an audience given as a list', async () => {
    for (const [alg, key] of [['RS256', issuer.rsa], ['RS512', issuer.rsa], ['PS256', issuer.rsa], ['ES256', issuer.ec256], ['ES384', issuer.ec384]] as const) {
      const answer = await assume(issuer.token(claims({ aud: ['other', AUDIENCE] }), { alg, key }));
      assert.equal(answer.Audience, AUDIENCE, alg);
    }
  });

  it("refuses expired, wrongly addressed and forged tokens with AWS's errors", async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(assume(issuer.token(claims({ exp: now - 600, iat: now - 4000 }))), 'ExpiredTokenException');
    await refused(assume(issuer.token(claims({ aud: 'someone-else' }))), 'InvalidIdentityTokenException', /audience/);
    await refused(assume(issuer.token(claims({ iss: 'http://127.0.0.1:1' }))), 'InvalidIdentityTokenException', /No OpenIDConnect provider found/);
    await refused(assume(issuer.token(claims({ iss: `${issuer.url}/` }))), 'InvalidIdentityTokenException', /No OpenIDConnect provider found/);
    await refused(assume(issuer.token(claims({ nbf: now + 600 }))), 'InvalidIdentityTokenException');
    // Signed by a key of another issuer under the issuer's kid: the signature does not verify.
    const stranger = await startTestIssuer();
    try {
      await refused(assume(stranger.token({ ...claims(), iss: issuer.url }, { kid: issuer.rsa.kid })), 'InvalidIdentityTokenException', /signature/);
    } finally {
      await stranger.close();
    }
    // A valid token with one claim changed after signing.
    const [header, payload, signature] = issuer.token(claims()).split('.');
    const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'system:serviceaccount:apps:admin' })).toString('base64url');
    await refused(assume(`${header}.${altered}.${signature}`), 'InvalidIdentityTokenException', /signature/);
  });

  it('refuses alg none and HS256 (an HMAC keyed with the public key), and a token that is no JWT', async () => {
    await refused(assume(issuer.token(claims(), { alg: 'none' }).replace(/\.[^.]*$/, '.')), 'InvalidIdentityTokenException');
    await refused(assume(issuer.token(claims(), { alg: 'none' }) + 'AAAA'), 'InvalidIdentityTokenException', /algorithm none is not supported/);
    await refused(assume(issuer.token(claims(), { alg: 'HS256' })), 'InvalidIdentityTokenException', /algorithm HS256 is not supported/);
    await refused(assume('not-a-jwt'), 'InvalidIdentityTokenException', /not a valid JWT/);
  });

  it('refuses a token over 20000 characters, a bad RoleSessionName and a duration above the role maximum', async () => {
    await refused(assume(issuer.token(claims({ padding: 'x'.repeat(20000) }))), 'ValidationError', /20000/);
    await refused(assume(issuer.token(claims()), { RoleSessionName: 'bad name!' }), 'ValidationError');
    await refused(assume(issuer.token(claims()), { DurationSeconds: 7200 }), 'ValidationError', /MaxSessionDuration/);
  });

  it('a session policy is checked (MalformedPolicyDocument) and counted in PackedPolicySize', async () => {
    const policy = JSON.stringify(readOnly(allowedSecret));
    const answer = await assume(issuer.token(claims()), { Policy: policy });
    assert.ok(answer.PackedPolicySize! > 0 && answer.PackedPolicySize! <= 100, String(answer.PackedPolicySize));
    await refused(assume(issuer.token(claims()), { Policy: '{"Statement": [' }), 'MalformedPolicyDocumentException');
    await refused(
      assume(issuer.token(claims()), { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] }) }),
      'MalformedPolicyDocumentException',
      /Principal/,
    );
  });

  it('an unknown kid makes one refresh of the JWKS: a rotated-in key is then accepted, a made-up kid refused without hammering the issuer', async () => {
    const rotated = issuer.newKey('rsa');
    const before = issuer.jwksRequests();
    const answer = await assume(issuer.token(claims(), { key: rotated }));
    assert.equal(answer.SubjectFromWebIdentityToken, SUBJECT);
    assert.equal(issuer.jwksRequests(), before + 1, 'the new kid fetched the JWKS once');

    const unpublished = issuer.newKey('rsa', { publish: false });
    const afterRotation = issuer.jwksRequests();
    // Within the refresh interval (30 s) an unknown kid is refused from the cache; the issuer is not asked again.
    await refused(assume(issuer.token(claims(), { key: unpublished })), 'InvalidIdentityTokenException', /Couldn't find a key/);
    await refused(assume(issuer.token(claims(), { key: unpublished })), 'InvalidIdentityTokenException', /Couldn't find a key/);
    assert.equal(issuer.jwksRequests(), afterRotation);
  });

  it('refuses a token whose subject the trust policy does not name (AccessDenied), and a role that does not exist alike', async () => {
    await refused(assume(issuer.token(claims({ sub: 'system:serviceaccount:apps:intruder' }))), 'AccessDenied', /Not authorized to perform sts:AssumeRoleWithWebIdentity/);
    await refused(assume(issuer.token(claims()), { RoleArn: `arn:aws:iam::${accountId}:role/absent` }), 'AccessDenied', /Not authorized to perform sts:AssumeRoleWithWebIdentity/);
  });

  it('a role trusting the account (AWS principal) or another provider does not trust the token', async () => {
    const iam = iamClient(server, root);
    await iam.send(new CreateRoleCommand({
      RoleName: 'account-trust',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: ['sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity'] }] }),
    }));
    await refused(assume(issuer.token(claims()), { RoleArn: `arn:aws:iam::${accountId}:role/account-trust` }), 'AccessDenied');
    await iam.send(new CreateRoleCommand({
      RoleName: 'other-provider',
      AssumeRolePolicyDocument: JSON.stringify(trustingProvider(`arn:aws:iam::${accountId}:oidc-provider/token.actions.githubusercontent.com`, issuer.host)),
    }));
    await refused(assume(issuer.token(claims()), { RoleArn: `arn:aws:iam::${accountId}:role/other-provider` }), 'AccessDenied');
  });

  it('a provider in another account does not count: AWS finds the provider in the role’s account', async () => {
    const other = await createAccount(server);
    await iamClient(server, other.root).send(new CreateRoleCommand({ RoleName: 'elsewhere', AssumeRolePolicyDocument: JSON.stringify(trustingProvider(providerArn, issuer.host)) }));
    await refused(assume(issuer.token(claims()), { RoleArn: `arn:aws:iam::${other.accountId}:role/elsewhere` }), 'InvalidIdentityTokenException', /No OpenIDConnect provider found/);
  });

  it('session tags from the token need sts:TagSession in the trust policy', async () => {
    const tagged = issuer.token(claims({ 'https://aws.amazon.com/tags': { principal_tags: { team: ['blue'] }, transitive_tag_keys: ['team'] } }));
    await refused(assume(tagged), 'AccessDenied', /sts:TagSession/);
    const iam = iamClient(server, root);
    await iam.send(new CreateRoleCommand({
      RoleName: 'tagged-reader',
      AssumeRolePolicyDocument: JSON.stringify(trustingProvider(providerArn, issuer.host, undefined, ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'])),
    }));
    const answer = await assume(tagged, { RoleArn: `arn:aws:iam::${accountId}:role/tagged-reader` });
    assert.ok(answer.PackedPolicySize! > 0);
    await refused(assume(issuer.token(claims({ 'https://aws.amazon.com/tags': { principal_tags: { team: 'blue', Team: 'red' } } })), { RoleArn: `arn:aws:iam::${accountId}:role/tagged-reader` }), 'IDPRejectedClaimException');
  });

  it('a session tag from the token is aws:PrincipalTag for the session', async () => {
    const iam = iamClient(server, root);
    await iam.send(new CreateRoleCommand({
      RoleName: 'team-reader',
      AssumeRolePolicyDocument: JSON.stringify(trustingProvider(providerArn, issuer.host, undefined, ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'])),
    }));
    await iam.send(new PutRolePolicyCommand({
      RoleName: 'team-reader',
      PolicyName: 'by-team',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: allowedSecret, Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } }] }),
    }));
    const sessionFor = async (team: string) => {
      const token = issuer.token(claims({ 'https://aws.amazon.com/tags': { principal_tags: { team: [team] } } }));
      const answer = await assume(token, { RoleArn: `arn:aws:iam::${accountId}:role/team-reader` });
      const c = answer.Credentials!;
      return new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }, maxAttempts: 1 });
    };
    assert.equal((await (await sessionFor('blue')).send(new GetSecretValueCommand({ SecretId: allowedSecret }))).SecretString, 'allowed-value');
    await refused((await sessionFor('red')).send(new GetSecretValueCommand({ SecretId: allowedSecret })), 'AccessDeniedException');
  });

  it('a Kubernetes service account token is accepted with a sub condition, its keys given by `coffer oidc set-jwks` (issuer unreachable)', async () => {
    // A closed port: Coffer cannot reach this issuer, as it cannot reach a cluster's API server.
    const clusterIssuer = 'https://127.0.0.1:9/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
    const host = clusterIssuer.slice('https://'.length);
    const iam = iamClient(server, root);
    const provider = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: clusterIssuer, ClientIDList: ['sts.amazonaws.com'] }));
    await iam.send(new CreateRoleCommand({
      RoleName: 'k8s-reader',
      AssumeRolePolicyDocument: JSON.stringify(trustingProvider(provider.OpenIDConnectProviderArn!, host, { [`${host}:sub`]: 'system:serviceaccount:payments:api', [`${host}:aud`]: 'sts.amazonaws.com' })),
    }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'k8s-reader', PolicyName: 'read', PolicyDocument: JSON.stringify(readOnly(allowedSecret)) }));
    const now = Math.floor(Date.now() / 1000);
    // The claim layout of a projected service account token (kube-apiserver, TokenRequest API).
    const serviceAccountToken = (namespace: string, name: string) =>
      issuer.token({
        iss: clusterIssuer,
        sub: `system:serviceaccount:${namespace}:${name}`,
        aud: ['sts.amazonaws.com'],
        iat: now,
        nbf: now,
        exp: now + 3600,
        'kubernetes.io': {
          namespace,
          pod: { name: `${name}-7c9d8b5f4-x2k8q`, uid: '0d7b3c55-1f0c-4a3c-9a57-2d0f4b0c1e11' },
          serviceaccount: { name, uid: 'f2a1e0c4-9b1d-4d54-8a3e-6f1b2c3d4e5f' },
        },
      }, { key: issuer.ec256 });
    const k8sRole = `arn:aws:iam::${accountId}:role/k8s-reader`;
    await refused(assume(serviceAccountToken('payments', 'api'), { RoleArn: k8sRole }), 'IDPCommunicationErrorException');

    const jwksFile = join(workDir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(issuer.jwks()));
    const cli = await runCoffer(['oidc', 'set-jwks', '--account', accountId, '--url', clusterIssuer, '--file', jwksFile, '--data-dir', server.dataDir]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /stored the JWKS/);

    const answer = await assume(serviceAccountToken('payments', 'api'), { RoleArn: k8sRole, RoleSessionName: 'api-pod' });
    assert.equal(answer.SubjectFromWebIdentityToken, 'system:serviceaccount:payments:api');
    const c = answer.Credentials!;
    const secrets = new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }, maxAttempts: 1 });
    assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: allowedSecret }))).SecretString, 'allowed-value');
    await refused(assume(serviceAccountToken('payments', 'batch'), { RoleArn: k8sRole }), 'AccessDenied');

    const privateJwks = join(workDir, 'private.json');
    writeFileSync(privateJwks, JSON.stringify({ keys: [issuer.rsa.privateKey.export({ format: 'jwk' })] }));
    const refusedPrivate = await runCoffer(['oidc', 'set-jwks', '--account', accountId, '--url', clusterIssuer, '--file', privateJwks, '--data-dir', server.dataDir]);
    assert.equal(refusedPrivate.code, 1);
    assert.match(refusedPrivate.stderr, /private key material/);
    const noProvider = await runCoffer(['oidc', 'set-jwks', '--account', accountId, '--url', 'https://nowhere.example', '--file', jwksFile, '--data-dir', server.dataDir]);
    assert.equal(noProvider.code, 1);
    assert.match(noProvider.stderr, /has no OpenID Connect provider/);
  });

  it('a token of a deleted provider is refused', async () => {
    const iam = iamClient(server, root);
    const token = issuer.token(claims());
    await assume(token, { RoleSessionName: 'before-delete' });
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    try {
      await refused(assume(token), 'InvalidIdentityTokenException', /No OpenIDConnect provider found/);
    } finally {
      await iam.send(new CreateOpenIDConnectProviderCommand({ Url: issuer.url, ClientIDList: [AUDIENCE] }));
    }
  });

  it('only AssumeRoleWithWebIdentity goes unsigned: AssumeRoleWithSAML and GetCallerIdentity are refused, and a bad signature on it still is', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    for (const action of ['AssumeRoleWithSAML', 'GetCallerIdentity', 'AssumeRole']) {
      const response = await post(`Action=${action}&Version=2011-06-15&RoleArn=${encodeURIComponent(roleArn)}&PrincipalArn=${encodeURIComponent(providerArn)}&SAMLAssertion=AAAA&RoleSessionName=x`);
      assert.equal(response.status, 403, action);
      assert.match(await response.text(), /MissingAuthenticationToken/);
    }
    const forged = await post(`Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=${encodeURIComponent(roleArn)}&RoleSessionName=x&WebIdentityToken=${issuer.token(claims())}`, {
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFORGED/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00',
      'x-amz-date': '20260101T000000Z',
    });
    assert.equal(forged.status, 403);
  });

  it('a refusal is audited with its reason, the role and the provider, and never the token', async () => {
    const token = issuer.token(claims({ sub: 'system:serviceaccount:apps:audited-intruder' }));
    await refused(assume(token, { RoleSessionName: 'audited' }), 'AccessDenied');
    const events = auditEvents(server.dataDir).filter((event) => event.eventName === 'AssumeRoleWithWebIdentity');
    const refusal = events.find((event) => event.requestParameters?.RoleSessionName === 'audited')!;
    assert.ok(refusal, 'the refusal has an event');
    assert.equal(refusal.errorCode, 'AccessDenied');
    assert.match(refusal.errorMessage, /Not authorized to perform sts:AssumeRoleWithWebIdentity/);
    assert.deepEqual(refusal.resources.map((resource: { ARN: string }) => resource.ARN).sort(), [providerArn, roleArn].sort());
    assert.equal(refusal.userIdentity.type, 'Unknown');
    const everything = JSON.stringify(events);
    assert.ok(!everything.includes(token.split('.')[2]!), 'the token is in the audit log');
    assert.ok(events.every((event) => event.requestParameters === null || !('WebIdentityToken' in event.requestParameters)), 'a token member is in the audit log');
    // Every JWT starts with a base64url JSON header ("eyJ"): none of the tokens sent in this suite was recorded.
    assert.ok(!everything.includes('eyJ'), 'a token is in the audit log');
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function runCoffer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bin', 'coffer'), ...args], { cwd: REPO_ROOT, env: childEnv(), timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
