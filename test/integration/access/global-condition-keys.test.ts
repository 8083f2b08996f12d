/**
 * A Deny must never fail open (issue 13): for every global condition key AWS documents that Coffer sets, a Deny
 * conditioned on the caller's value blocks the request and a Deny conditioned on another value lets it through,
 * for an IAM user, an assumed-role session, a caller from another account and the account root. Keys AWS leaves
 * out for a kind of caller (aws:username of a role session, aws:TokenIssueTime of a long-term key) are checked
 * with Null. The user's and the role's Deny is in their own inline policy; the other account's and the root's
 * Deny is in the secret's resource policy, where the owner of the secret writes it. Real server, real SDK clients.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutRolePolicyCommand, PutUserPolicyCommand, TagRoleCommand, TagUserCommand, UntagUserCommand } from '@aws-sdk/client-iam';
import { CreateKeyCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { assumeRole, createAccount, createRole, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const REGION = 'us-east-1';
const ALLOW_ALL = { Effect: 'Allow', Action: '*', Resource: '*' };

type Condition = Record<string, Record<string, string | string[]>>;

/** What the table needs to know of a caller: its own values of the principal keys. */
type Caller = {
  readonly label: 'user' | 'assumed role' | 'cross-account user' | 'account root';
  readonly keys: Keys;
  readonly arn: string;
  readonly principalArn: string;
  readonly accountId: string;
  readonly userId: string;
  readonly principalType: 'User' | 'AssumedRole' | 'Account';
  readonly userName?: string;
  readonly temporary: boolean;
  /** Tagged team=blue (the root user has no tags). */
  readonly tagged: boolean;
  /** Replaces the Deny statement that applies to this caller's GetSecretValue. */
  denyWhen(condition: Condition): Promise<void>;
};

/** A key's Deny that must block the caller (`blocks`) and one that must not (`passes`). */
type Row = { readonly key: string; blocks(caller: Caller): Condition; passes(caller: Caller): Condition };

const absent = (key: string): Row => ({ key, blocks: () => ({ Null: { [key]: 'true' } }), passes: () => ({ Null: { [key]: 'false' } }) });
const equals = (key: string, value: (caller: Caller) => string): Row => ({
  key,
  blocks: (caller) => ({ StringEquals: { [key]: value(caller) } }),
  passes: () => ({ StringEquals: { [key]: 'not-the-callers-value' } }),
});
const bool = (key: string, value: (caller: Caller) => boolean): Row => ({
  key,
  blocks: (caller) => ({ Bool: { [key]: String(value(caller)) } }),
  passes: (caller) => ({ Bool: { [key]: String(!value(caller)) } }),
});
/** A key present for some callers only: its value where present, Null where AWS leaves it out. */
const presentFor = (present: (caller: Caller) => boolean, row: Row): Row => ({
  key: row.key,
  blocks: (caller) => (present(caller) ? row.blocks(caller) : absent(row.key).blocks(caller)),
  passes: (caller) => (present(caller) ? row.passes(caller) : absent(row.key).passes(caller)),
});
const PAST = '2001-01-01T00:00:00Z';

const ROWS: Row[] = [
  equals('aws:PrincipalArn', (caller) => caller.principalArn),
  equals('aws:PrincipalAccount', (caller) => caller.accountId),
  equals('aws:PrincipalType', (caller) => caller.principalType),
  equals('aws:userid', (caller) => caller.userId),
  presentFor((caller) => caller.userName !== undefined, equals('aws:username', (caller) => caller.userName!)),
  presentFor((caller) => caller.tagged, equals('aws:PrincipalTag/team', () => 'blue')),
  bool('aws:PrincipalIsAWSService', () => false),
  absent('aws:PrincipalServiceName'),
  presentFor((caller) => caller.temporary, {
    key: 'aws:TokenIssueTime',
    blocks: () => ({ DateGreaterThan: { 'aws:TokenIssueTime': PAST } }),
    passes: () => ({ DateLessThan: { 'aws:TokenIssueTime': PAST } }),
  }),
  presentFor((caller) => caller.temporary, bool('aws:MultiFactorAuthPresent', () => false)),
  absent('aws:SourceIdentity'),
  {
    key: 'aws:SourceIp',
    blocks: () => ({ IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }),
    passes: () => ({ IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } }),
  },
  bool('aws:SecureTransport', () => false),
  equals('aws:RequestedRegion', () => REGION),
  { key: 'aws:CurrentTime', blocks: () => ({ DateGreaterThan: { 'aws:CurrentTime': PAST } }), passes: () => ({ DateLessThan: { 'aws:CurrentTime': PAST } }) },
  { key: 'aws:EpochTime', blocks: () => ({ NumericGreaterThan: { 'aws:EpochTime': '978307200' } }), passes: () => ({ NumericLessThan: { 'aws:EpochTime': '978307200' } }) },
  bool('aws:ViaAWSService', () => false),
  absent('aws:CalledVia'),
  equals('aws:ResourceAccount', () => OWNER_ACCOUNT.id),
  equals('aws:ResourceTag/env', () => 'prod'),
];

const OWNER_ACCOUNT = { id: '' };
const OWNER_KEYS: { root?: Keys } = {};

describe('a Deny on each global condition key', () => {
  let server: TestServer;
  let secretArn: string;
  const callers: Caller[] = [];

  const identityPolicy = (condition: Condition) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW_ALL, { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: condition }] });

  before(async () => {
    server = await startTestServer({ devMode: false });
    const owner = await createAccount(server);
    const other = await createAccount(server);
    OWNER_ACCOUNT.id = owner.accountId;
    OWNER_KEYS.root = owner.root;
    const ownerIam = iamClient(server, owner.root);

    const user = await createUser(server, owner.root, 'table-user', { policy: { Version: '2012-10-17', Statement: [ALLOW_ALL] }, tags: { team: 'blue' } });
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${owner.accountId}:root` }, Action: 'sts:AssumeRole' }] };
    const role = await createRole(server, owner.root, 'table-role', trust, { Version: '2012-10-17', Statement: [ALLOW_ALL] });
    await ownerIam.send(new TagRoleCommand({ RoleName: 'table-role', Tags: [{ Key: 'team', Value: 'blue' }] }));
    const session = await assumeRole(server, owner.root, role.arn, 'table-session');
    const foreign = await createUser(server, other.root, 'table-foreign', { policy: { Version: '2012-10-17', Statement: [ALLOW_ALL] } });
    await iamClient(server, other.root).send(new TagUserCommand({ UserName: 'table-foreign', Tags: [{ Key: 'team', Value: 'blue' }] }));

    // The secret is sealed with a key of the owner that the other account's user may use, and shared with it.
    const keyPolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${owner.accountId}:root` }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Allow', Principal: { AWS: foreign.arn }, Action: 'kms:Decrypt', Resource: '*' },
      ],
    };
    const key = await server.kms({ credentials: owner.root }).send(new CreateKeyCommand({ Policy: JSON.stringify(keyPolicy) }));
    const ownerSecrets = secrets(server, owner.root);
    secretArn = (await ownerSecrets.send(new CreateSecretCommand({ Name: 'table/db', SecretString: 'value', KmsKeyId: key.KeyMetadata!.Arn!, Tags: [{ Key: 'env', Value: 'prod' }] })))
      .ARN!;
    const resourcePolicy = (condition: Condition) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: foreign.arn }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
          { Effect: 'Deny', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: condition },
        ],
      });

    const userIdOf = async (keys: Keys) => (await stsClient(server, keys).send(new GetCallerIdentityCommand({}))).UserId!;
    callers.push(
      {
        label: 'user',
        keys: user.keys,
        arn: user.arn,
        principalArn: user.arn,
        accountId: owner.accountId,
        userId: await userIdOf(user.keys),
        principalType: 'User',
        userName: 'table-user',
        temporary: false,
        tagged: true,
        denyWhen: async (condition) => {
          await ownerIam.send(new PutUserPolicyCommand({ UserName: 'table-user', PolicyName: 'inline', PolicyDocument: identityPolicy(condition) }));
        },
      },
      {
        label: 'assumed role',
        keys: session,
        arn: `arn:aws:sts::${owner.accountId}:assumed-role/table-role/table-session`,
        principalArn: role.arn,
        accountId: owner.accountId,
        userId: await userIdOf(session),
        principalType: 'AssumedRole',
        temporary: true,
        tagged: true,
        denyWhen: async (condition) => {
          await ownerIam.send(new PutRolePolicyCommand({ RoleName: 'table-role', PolicyName: 'inline', PolicyDocument: identityPolicy(condition) }));
        },
      },
      {
        label: 'cross-account user',
        keys: foreign.keys,
        arn: foreign.arn,
        principalArn: foreign.arn,
        accountId: other.accountId,
        userId: await userIdOf(foreign.keys),
        principalType: 'User',
        userName: 'table-foreign',
        temporary: false,
        tagged: true,
        denyWhen: async (condition) => {
          await ownerSecrets.send(new PutResourcePolicyCommand({ SecretId: secretArn, ResourcePolicy: resourcePolicy(condition) }));
        },
      },
      {
        // The root user is unrestricted by identity policies; the secret's resource policy still binds it.
        label: 'account root',
        keys: owner.root,
        arn: `arn:aws:iam::${owner.accountId}:root`,
        principalArn: `arn:aws:iam::${owner.accountId}:root`,
        accountId: owner.accountId,
        userId: await userIdOf(owner.root),
        principalType: 'Account',
        temporary: false,
        tagged: false,
        denyWhen: async (condition) => {
          await ownerSecrets.send(new PutResourcePolicyCommand({ SecretId: secretArn, ResourcePolicy: resourcePolicy(condition) }));
        },
      },
    );
    await callers[2]!.denyWhen({ Null: { 'aws:SourceIdentity': 'false' } });
  });

  after(async () => server?.cleanup());

  it('the callers read the secret before any Deny applies', async () => {
    assert.match(callers[0]!.userId, /^AIDA/);
    assert.match(callers[1]!.userId, /^AROA[A-Z0-9]+:table-session$/);
    assert.equal(callers[3]!.userId, OWNER_ACCOUNT.id);
    for (const caller of callers) assert.equal((await read(caller)).SecretString, 'value', caller.label);
  });

  for (const label of ['user', 'assumed role', 'cross-account user', 'account root'] as const) {
    for (const row of ROWS) {
      it(`${label}: a Deny on ${row.key} blocks the matching request and lets the other through`, async () => {
        const caller = callers.find((candidate) => candidate.label === label)!;
        await caller.denyWhen(row.blocks(caller));
        await assert.rejects(read(caller), (error: Error) => {
          assert.equal(error.name, 'AccessDeniedException', `${JSON.stringify(row.blocks(caller))}: ${error.message}`);
          // A caller from another account never learns why it was refused (that would say the secret exists): the
          // refusal is the one a missing secret gets. Everyone else is told it was the explicit deny.
          if (label === 'cross-account user') assert.match(error.message, /because no resource-based policy allows/);
          else assert.match(error.message, /with an explicit deny/);
          return true;
        });
        await caller.denyWhen(row.passes(caller));
        assert.equal((await read(caller)).SecretString, 'value', JSON.stringify(row.passes(caller)));
      });
    }
  }

  it('when Secrets Manager calls KMS for the caller, aws:ViaAWSService is true and aws:CalledVia names it', async () => {
    const [user] = callers;
    const denyDecrypt = (condition: Condition) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW_ALL, { Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*', Condition: condition }] });
    const iam = iamClient(server, OWNER_KEYS.root!);
    const put = (condition: Condition) => iam.send(new PutUserPolicyCommand({ UserName: 'table-user', PolicyName: 'inline', PolicyDocument: denyDecrypt(condition) }));
    const conditions: Condition[] = [
      { Bool: { 'aws:ViaAWSService': 'true' } },
      { 'ForAnyValue:StringEquals': { 'aws:CalledVia': 'secretsmanager.amazonaws.com' } },
      { StringEquals: { 'aws:CalledViaFirst': 'secretsmanager.amazonaws.com', 'aws:CalledViaLast': 'secretsmanager.amazonaws.com' } },
    ];
    for (const condition of conditions) {
      await put(condition);
      await assert.rejects(read(user!), { name: 'AccessDeniedException' }, JSON.stringify(condition));
    }
    await put({ 'ForAnyValue:StringEquals': { 'aws:CalledVia': 'lambda.amazonaws.com' } });
    assert.equal((await read(user!)).SecretString, 'value');
  });

  it('aws:RequestTag and aws:TagKeys are set for IAM and KMS calls that tag or untag, aws:ResourceTag for IAM calls on a user', async () => {
    const [user, session] = callers;
    const kms = server.kms({ credentials: session!.keys });
    const keyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const asUser = iamClient(server, user!.keys);
    const tagCalls = [
      () => kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'owner', TagValue: 'mallory' }] })),
      () => kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['owner'] })),
      () => asUser.send(new TagUserCommand({ UserName: 'table-user', Tags: [{ Key: 'owner', Value: 'mallory' }] })),
      () => asUser.send(new UntagUserCommand({ UserName: 'table-user', TagKeys: ['owner'] })),
    ];
    const iam = iamClient(server, OWNER_KEYS.root!);
    const denyTagging = (condition: Condition) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [ALLOW_ALL, { Effect: 'Deny', Action: ['kms:*Tag*', 'iam:*Tag*'], Resource: '*', Condition: condition }] });
    const putBoth = async (condition: Condition) => {
      await iam.send(new PutUserPolicyCommand({ UserName: 'table-user', PolicyName: 'inline', PolicyDocument: denyTagging(condition) }));
      await iam.send(new PutRolePolicyCommand({ RoleName: 'table-role', PolicyName: 'inline', PolicyDocument: denyTagging(condition) }));
    };

    await putBoth({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'owner' } });
    for (const call of tagCalls) await assert.rejects(call(), /explicit deny/);
    await putBoth({ StringEquals: { 'aws:RequestTag/owner': 'mallory' } });
    await assert.rejects(tagCalls[0]!(), /explicit deny/);
    await assert.rejects(tagCalls[2]!(), /explicit deny/);
    // The user's own tags are the resource tags of IAM calls on it (aws: and iam:ResourceTag).
    await putBoth({ StringEquals: { 'aws:ResourceTag/team': 'blue' } });
    await assert.rejects(tagCalls[2]!(), /explicit deny/);
    await putBoth({ StringEquals: { 'iam:ResourceTag/team': 'blue' } });
    await assert.rejects(tagCalls[3]!(), /explicit deny/);
    await putBoth({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'cost-center' } });
    for (const call of tagCalls) await call();
    await putBoth({ Null: { 'aws:SourceIdentity': 'false' } });
  });

  function read(caller: Caller) {
    return secrets(server, caller.keys).send(new GetSecretValueCommand({ SecretId: secretArn }));
  }
});

function secrets(server: TestServer, credentials: Keys): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
}
