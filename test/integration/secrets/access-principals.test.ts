import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { rejectsWith } from '../../helpers/kms.js';
import { assumeRole, createAccount, createRole, createUser, type Keys } from '../../helpers/principals.js';
import { ACCOUNT_ID, REGION, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Secrets Manager authorization with principals other than the account root: users and role sessions whose
 * identity policies allow some secrets, actions, stages and tags and nothing else; resource policies that let a
 * principal in or keep it out; and a role of another account that reaches a secret by its full ARN only when
 * the secret's resource policy and its own policy both allow it.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */

const SECRET_ARN_PREFIX = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:`;

function policy(...statements: object[]): object {
  return { Version: '2012-10-17', Statement: statements };
}

let server: TestServer;
let root: SecretsManagerClient;

function client(keys: Keys): SecretsManagerClient {
  return secretsClient(server, { credentials: keys });
}

/** A user of the dev account with one inline policy (and tags), and a client signed with its key. */
async function userWith(name: string, identityPolicy: object | undefined, tags?: Record<string, string>) {
  const user = await createUser(server, server.admin, name, { policy: identityPolicy, tags });
  return { arn: user.arn, keys: user.keys, sm: client(user.keys) };
}

before(async () => {
  server = await startTestServer();
  root = secretsClient(server);
});
after(async () => server.cleanup());

describe('a reader allowed only prod/myapp/*', () => {
  let reader: { arn: string; keys: Keys; sm: SecretsManagerClient };
  let mine: { name: string; arn: string };
  let other: { name: string; arn: string };

  before(async () => {
    const prefix = uniqueSecretName('prod/myapp');
    mine = await create(`${prefix}/db`, 'mine');
    other = await create(uniqueSecretName('prod/billing/db'), 'not-mine');
    reader = await userWith(
      'myapp-reader',
      policy({
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: `${SECRET_ARN_PREFIX}${prefix}/*`,
      }),
    );
  });

  async function create(name: string, value: string) {
    const created = await root.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    return { name, arn: created.ARN! };
  }

  it('reads its secrets by name and by ARN', async () => {
    assert.equal((await reader.sm.send(new GetSecretValueCommand({ SecretId: mine.name }))).SecretString, 'mine');
    assert.equal((await reader.sm.send(new GetSecretValueCommand({ SecretId: mine.arn }))).SecretString, 'mine');
    assert.equal((await reader.sm.send(new DescribeSecretCommand({ SecretId: mine.name }))).ARN, mine.arn);
  });

  it('is refused another secret with AWS message naming the user, the action and the secret as given (never its suffixed ARN)', async () => {
    const denied = await rejectsWith(reader.sm.send(new GetSecretValueCommand({ SecretId: other.name })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${reader.arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other.name} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
    );
    assert.ok(!denied.message.includes(other.arn));
    assert.ok(!denied.message.includes('not-mine'));
  });

  it('may not write its own secrets, nor list secrets, which its policy does not allow', async () => {
    const write = await rejectsWith(reader.sm.send(new PutSecretValueCommand({ SecretId: mine.name, SecretString: 'x' })), 'AccessDeniedException');
    assert.match(write.message, /secretsmanager:PutSecretValue/);
    const list = await rejectsWith(reader.sm.send(new ListSecretsCommand({})), 'AccessDeniedException');
    assert.match(list.message, /secretsmanager:ListSecrets on resource: \*/);
    await rejectsWith(reader.sm.send(new GetResourcePolicyCommand({ SecretId: mine.name })), 'AccessDeniedException');
  });

  it('learns nothing about secrets it may not read: a missing one is AccessDenied, not ResourceNotFound', async () => {
    const missing = await rejectsWith(reader.sm.send(new GetSecretValueCommand({ SecretId: 'prod/billing/nothing-here' })), 'AccessDeniedException');
    assert.match(missing.message, /on resource: prod\/billing\/nothing-here /);
    await rejectsWith(reader.sm.send(new GetSecretValueCommand({ SecretId: `${SECRET_ARN_PREFIX}prod/billing/nothing-here-AbCdEf` })), 'AccessDeniedException');
  });

  it('BatchGetSecretValue returns its secrets and reports the others in Errors; Filters need ListSecrets', async () => {
    const prefix = mine.name.slice(0, -'/db'.length);
    const batch = await userWith(
      'batch-reader',
      policy(
        { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' },
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRET_ARN_PREFIX}${prefix}/*` },
      ),
    );
    const result = await batch.sm.send(new BatchGetSecretValueCommand({ SecretIdList: [mine.name, other.name] }));
    assert.deepEqual(result.SecretValues?.map((value) => value.SecretString), ['mine']);
    assert.deepEqual(result.Errors?.map((error) => [error.SecretId, error.ErrorCode]), [[other.name, 'AccessDeniedException']]);
    const filtered = await rejectsWith(batch.sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['prod/'] }] })), 'AccessDeniedException');
    assert.match(filtered.message, /secretsmanager:ListSecrets/);
  });

  it('the AWS CLI shows the same: its secret printed, the other refused with AccessDeniedException', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'coffer-reader-cli-'));
    try {
      const options = { cwd: workDir, credentials: reader.keys, region: REGION, env: { COFFER_URL: server.url } };
      const value = await shellOk(`aws secretsmanager get-secret-value --secret-id ${mine.name} --query SecretString --output text --endpoint-url "$COFFER_URL"`, options);
      assert.equal(value.trim(), 'mine');
      const refused = await shell(`aws secretsmanager get-secret-value --secret-id ${other.name} --endpoint-url "$COFFER_URL"`, options);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /AccessDeniedException/);
      assert.ok(refused.stderr.includes(`User: ${reader.arn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other.name} `), refused.stderr);
      assert.ok(!refused.stdout.includes('not-mine') && !refused.stderr.includes('not-mine'));
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('lists secrets once a policy allows ListSecrets', async () => {
    const lister = await userWith('lister', policy({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }));
    const names = (await lister.sm.send(new ListSecretsCommand({ MaxResults: 100 }))).SecretList?.map((secret) => secret.Name) ?? [];
    assert.ok(names.includes(mine.name) && names.includes(other.name));
    await rejectsWith(lister.sm.send(new GetSecretValueCommand({ SecretId: mine.name })), 'AccessDeniedException');
  });
});

describe('conditions in identity policies', () => {
  it('secretsmanager:ResourceTag: a user reads only secrets tagged for its team', async () => {
    const tagged = uniqueSecretName('team-tagged');
    const untagged = uniqueSecretName('team-untagged');
    await root.send(new CreateSecretCommand({ Name: tagged, SecretString: 'payments-value', Tags: [{ Key: 'team', Value: 'payments' }] }));
    await root.send(new CreateSecretCommand({ Name: untagged, SecretString: 'other-value' }));
    const user = await userWith(
      'payments-reader',
      policy({
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringEquals: { 'secretsmanager:ResourceTag/team': 'payments' } },
      }),
    );
    assert.equal((await user.sm.send(new GetSecretValueCommand({ SecretId: tagged }))).SecretString, 'payments-value');
    await rejectsWith(user.sm.send(new GetSecretValueCommand({ SecretId: untagged })), 'AccessDeniedException');
    await root.send(new TagResourceCommand({ SecretId: untagged, Tags: [{ Key: 'team', Value: 'payments' }] }));
    assert.equal((await user.sm.send(new GetSecretValueCommand({ SecretId: untagged }))).SecretString, 'other-value');
  });

  it('secretsmanager:VersionStage: a user reads AWSCURRENT only, not AWSPREVIOUS nor a version by id', async () => {
    const name = uniqueSecretName('stage-limited');
    const first = await root.send(new CreateSecretCommand({ Name: name, SecretString: 'old' }));
    await root.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new' }));
    const user = await userWith(
      'current-reader',
      policy({
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      }),
    );
    assert.equal((await user.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'new');
    await rejectsWith(user.sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })), 'AccessDeniedException');
    await rejectsWith(user.sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: first.VersionId })), 'AccessDeniedException');
  });

  it('aws:RequestTag and aws:TagKeys: a user creates secrets only with its team tag, and nothing is created otherwise', async () => {
    const user = await userWith(
      'tagged-creator',
      policy({
        Effect: 'Allow',
        Action: 'secretsmanager:CreateSecret',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:RequestTag/team': 'payments' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] },
        },
      }),
    );
    const allowed = uniqueSecretName('created-tagged');
    const created = await user.sm.send(new CreateSecretCommand({ Name: allowed, SecretString: 'v', Tags: [{ Key: 'team', Value: 'payments' }, { Key: 'env', Value: 'prod' }] }));
    assert.match(created.ARN!, new RegExp(`:secret:${allowed}-`));

    for (const tags of [undefined, [{ Key: 'team', Value: 'billing' }], [{ Key: 'team', Value: 'payments' }, { Key: 'owner', Value: 'me' }]]) {
      const name = uniqueSecretName('created-refused');
      const denied = await rejectsWith(user.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v', Tags: tags })), 'AccessDeniedException');
      // AWS names the Name as given; the ARN this call would have drawn (its suffix) is never shown.
      assert.match(denied.message, new RegExp(`secretsmanager:CreateSecret on resource: ${name} because`));
      await rejectsWith(root.send(new DescribeSecretCommand({ SecretId: name })), 'ResourceNotFoundException');
    }
  });
});

describe('resource policies with users and roles', () => {
  it('a resource policy naming a user lets it in without any identity policy, and an explicit Deny beats its own Allow', async () => {
    const name = uniqueSecretName('shared-by-policy');
    await root.send(new CreateSecretCommand({ Name: name, SecretString: 'shared' }));
    const user = await userWith('policy-only', undefined);
    await rejectsWith(user.sm.send(new GetSecretValueCommand({ SecretId: name })), 'AccessDeniedException');
    await root.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: JSON.stringify(policy({ Effect: 'Allow', Principal: { AWS: user.arn }, Action: 'secretsmanager:GetSecretValue', Resource: '*' })),
      }),
    );
    assert.equal((await user.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'shared');

    const broad = await userWith('broad-reader', policy({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }));
    assert.equal((await broad.sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'shared');
    await root.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: JSON.stringify(policy({ Effect: 'Deny', Principal: { AWS: broad.arn }, Action: 'secretsmanager:GetSecretValue', Resource: '*' })),
      }),
    );
    const denied = await rejectsWith(broad.sm.send(new GetSecretValueCommand({ SecretId: name })), 'AccessDeniedException');
    assert.match(denied.message, /with an explicit deny in a resource-based policy$/);
  });

  it('a role session reads what its role policy allows; the denial names the assumed-role ARN', async () => {
    const allowedName = uniqueSecretName('role/allowed');
    const otherName = uniqueSecretName('role/other');
    await root.send(new CreateSecretCommand({ Name: allowedName, SecretString: 'role-value' }));
    const otherArn = (await root.send(new CreateSecretCommand({ Name: otherName, SecretString: 'x' }))).ARN!;
    const trust = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'sts:AssumeRole' });
    const role = await createRole(
      server,
      server.admin,
      'secrets-role',
      trust,
      policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `${SECRET_ARN_PREFIX}${allowedName}-*` }),
    );
    const session = client(await assumeRole(server, server.admin, role.arn, 'reading-session'));
    assert.equal((await session.send(new GetSecretValueCommand({ SecretId: allowedName }))).SecretString, 'role-value');
    const denied = await rejectsWith(session.send(new GetSecretValueCommand({ SecretId: otherName })), 'AccessDeniedException');
    assert.ok(denied.message.startsWith(`User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/secrets-role/reading-session is not authorized`), denied.message);
    assert.ok(denied.message.includes(`on resource: ${otherName} `) && !denied.message.includes(otherArn), denied.message);
  });
});

describe('cross-account: a full ARN reaches another account\'s secret when both sides allow', () => {
  let owner: { accountId: string; root: Keys };
  let reader: { accountId: string; root: Keys };
  let secretArn: string;
  let session: SecretsManagerClient;

  before(async () => {
    owner = await createAccount(server);
    reader = await createAccount(server);
    const trust = policy({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${reader.accountId}:root` }, Action: 'sts:AssumeRole' });
    const role = await createRole(server, reader.root, 'describer', trust, policy({ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: '*' }));
    const ownerSm = client(owner.root);
    secretArn = (await ownerSm.send(new CreateSecretCommand({ Name: 'shared/config', SecretString: 'owner-value' }))).ARN!;
    await ownerSm.send(
      new PutResourcePolicyCommand({
        SecretId: secretArn,
        ResourcePolicy: JSON.stringify(policy({ Effect: 'Allow', Principal: { AWS: role.arn }, Action: 'secretsmanager:DescribeSecret', Resource: '*' })),
      }),
    );
    session = client(await assumeRole(server, reader.root, role.arn, 'cross'));
  });

  it('describes the secret by its full ARN', async () => {
    const described = await session.send(new DescribeSecretCommand({ SecretId: secretArn }));
    assert.equal(described.ARN, secretArn);
    assert.equal(described.Name, 'shared/config');
  });

  it('finds nothing by name or partial ARN, which stay in the caller\'s own account', async () => {
    await rejectsWith(session.send(new DescribeSecretCommand({ SecretId: 'shared/config' })), 'ResourceNotFoundException');
  });

  it('is refused what the resource policy does not grant, and what its own policy does not allow', async () => {
    await rejectsWith(session.send(new GetResourcePolicyCommand({ SecretId: secretArn })), 'AccessDeniedException');
    await rejectsWith(session.send(new GetSecretValueCommand({ SecretId: secretArn })), 'AccessDeniedException');
    // The other account's root has no identity policy for the owner's secret, and the resource policy names only the role.
    await rejectsWith(client(reader.root).send(new DescribeSecretCommand({ SecretId: secretArn })), 'AccessDeniedException');
  });

  it('is refused once the owner removes the resource policy', async () => {
    await client(owner.root).send(new DeleteResourcePolicyCommand({ SecretId: secretArn }));
    await rejectsWith(session.send(new DescribeSecretCommand({ SecretId: secretArn })), 'AccessDeniedException');
  });
});
