/**
 * AssumeRole's session members, end to end: session policies narrow a session (a resource policy naming the
 * session itself does not), session tags stand in for the role's tags in aws:PrincipalTag, SourceIdentity is
 * aws:SourceIdentity, and transitive tags and the source identity pass through role chaining. Every refusal is
 * AWS's error and creates no session. The attributes survive a restart (they are kept with the session's key).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CreatePolicyCommand, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, type AssumeRoleCommandInput, type AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { createAccount, createUser, iamClient, stsClient, type Keys } from '../../helpers/principals.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const REGION = 'us-east-1';

type Statement = Record<string, unknown>;
const policy = (...Statement: Statement[]) => ({ Version: '2012-10-17', Statement });
const allow = (Action: string | string[], Resource: string | string[] = '*', Condition?: object): Statement => ({ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) });
const deny = (Action: string | string[], Resource: string | string[] = '*', Condition?: object): Statement => ({ Effect: 'Deny', Action, Resource, ...(Condition ? { Condition } : {}) });
const trust = (principal: string, actions: string[] = ['sts:AssumeRole'], Condition?: object) =>
  policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: actions, ...(Condition ? { Condition } : {}) });

function keysOf(output: AssumeRoleCommandOutput): Keys {
  const credentials = output.Credentials!;
  return { accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! };
}

async function rejectsWith(promise: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.equal(error.name, name, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('STS AssumeRole: session policies, session tags and source identity', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  /** The caller of AssumeRole: a user allowed every STS action (AWS refuses roots: "Roles may not be assumed by root accounts."). */
  let caller: Keys;
  let callerArn: string;
  let workDir: string;
  const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${accountId}:secret:${name}`;
  const roleArn = (name: string) => `arn:aws:iam::${accountId}:role/${name}`;
  const rootArn = () => `arn:aws:iam::${accountId}:root`;

  async function makeRole(name: string, trustPolicy: object, permissions?: object, options: { tags?: Record<string, string>; maxSessionDuration?: number } = {}) {
    const iam = iamClient(server, root);
    try {
      const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      await iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify(trustPolicy),
          MaxSessionDuration: options.maxSessionDuration,
          Tags: tags.length > 0 ? tags : undefined,
        }),
      );
      if (permissions) await iam.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: JSON.stringify(permissions) }));
      return roleArn(name);
    } finally {
      iam.destroy();
    }
  }

  async function assume(caller: Keys, input: AssumeRoleCommandInput): Promise<{ keys: Keys; output: AssumeRoleCommandOutput }> {
    const sts = stsClient(server, caller);
    try {
      const output = await sts.send(new AssumeRoleCommand(input));
      return { keys: keysOf(output), output };
    } finally {
      sts.destroy();
    }
  }

  function assumeFails(caller: Keys, input: AssumeRoleCommandInput): Promise<unknown> {
    return stsClient(server, caller).send(new AssumeRoleCommand(input));
  }

  const read = (keys: Keys, name: string) => secretsClient(server, { credentials: keys }).send(new GetSecretValueCommand({ SecretId: secretArn(name) }));
  const refusedRead = (keys: Keys, name: string, why: RegExp) => rejectsWith(read(keys, name), 'AccessDeniedException', why);

  /** Rows of access_keys: a refused AssumeRole must create none. */
  function accessKeyCount(): number {
    const db = new Database(join(server.dataDir, 'coffer.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM access_keys').pluck().get() as number;
    } finally {
      db.close();
    }
  }

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    ({ keys: caller, arn: callerArn } = await createUser(server, root, 'session-assumer', { policy: policy(allow('sts:*')) }));
    workDir = mkdtempSync(join(tmpdir(), 'coffer-sts-session-'));
    const secrets = secretsClient(server, { credentials: root });
    for (const name of ['a/one', 'b/one', 'c/one', 'red/x', 'blue/x']) {
      await secrets.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}` }));
    }
    secrets.destroy();
  });
  after(async () => {
    await server.cleanup();
    rmSync(workDir, { recursive: true, force: true });
  });

  describe('session policies', () => {
    let role: string;
    before(async () => {
      role = await makeRole('reader', trust(rootArn()), policy(allow('secretsmanager:GetSecretValue', [secretArn('a/*'), secretArn('b/*')])));
    });

    it('narrow the session to the intersection with the role’s policies, and are answered in PackedPolicySize', async () => {
      const plain = await assume(caller, { RoleArn: role, RoleSessionName: 'plain' });
      assert.equal(plain.output.PackedPolicySize, undefined);
      await read(plain.keys, 'b/one');

      const sessionPolicy = policy(allow('secretsmanager:*', secretArn('a/*')));
      const narrowed = await assume(caller, { RoleArn: role, RoleSessionName: 'narrow', Policy: JSON.stringify(sessionPolicy, null, 2) });
      assert.equal(narrowed.output.PackedPolicySize, Math.ceil((100 * JSON.stringify(sessionPolicy).length) / 2048));
      assert.equal((await read(narrowed.keys, 'a/one')).SecretString, 'value of a/one');
      await refusedRead(
        narrowed.keys,
        'b/one',
        new RegExp(`^User: arn:aws:sts::${accountId}:assumed-role/reader/narrow is not authorized to perform: secretsmanager:GetSecretValue on resource: .*because no session policy allows the secretsmanager:GetSecretValue action$`),
      );
      // The session policy grants nothing the role does not have: DescribeSecret is allowed by it alone.
      await rejectsWith(
        secretsClient(server, { credentials: narrowed.keys }).send(new DescribeSecretCommand({ SecretId: secretArn('a/one') })),
        'AccessDeniedException',
        /because no identity-based policy allows/,
      );
    });

    it('an explicit Deny in a session policy wins over the role’s Allow', async () => {
      const { keys } = await assume(caller, {
        RoleArn: role,
        RoleSessionName: 'denied',
        Policy: JSON.stringify(policy(allow('*'), deny('secretsmanager:GetSecretValue', secretArn('a/*')))),
      });
      await read(keys, 'b/one');
      await refusedRead(keys, 'a/one', /with an explicit deny in a session policy$/);
    });

    it('a resource policy naming the session ARN allows beyond the session policy; one naming the role does not', async () => {
      const owner = secretsClient(server, { credentials: root });
      const sessionArn = `arn:aws:sts::${accountId}:assumed-role/reader/named`;
      const grant = (principal: string) => JSON.stringify(policy({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }));
      await owner.send(new PutResourcePolicyCommand({ SecretId: 'c/one', ResourcePolicy: grant(role) }));
      const onlyA = JSON.stringify(policy(allow('secretsmanager:GetSecretValue', secretArn('a/*'))));

      // The role's own sessions read c/one through the resource policy naming the role, unless a session policy limits them.
      await read((await assume(caller, { RoleArn: role, RoleSessionName: 'unlimited' })).keys, 'c/one');
      const limited = await assume(caller, { RoleArn: role, RoleSessionName: 'named', Policy: onlyA });
      // (Named by a partial ARN the caller's own policies do not cover, the refusal tells no more than a missing secret's.)
      await refusedRead(limited.keys, 'c/one', /is not authorized to perform: secretsmanager:GetSecretValue/);

      await owner.send(new PutResourcePolicyCommand({ SecretId: 'c/one', ResourcePolicy: grant(sessionArn) }));
      assert.equal((await read(limited.keys, 'c/one')).SecretString, 'value of c/one');
      await refusedRead(limited.keys, 'b/one', /because no session policy allows/);
      owner.destroy();
    });

    it('PolicyArns name managed policies whose default version limits the session; one that does not exist allows nothing', async () => {
      const iam = iamClient(server, root);
      await iam.send(new CreatePolicyCommand({ PolicyName: 'narrow', PolicyDocument: JSON.stringify(policy(allow('secretsmanager:GetSecretValue', secretArn('a/*')))) }));
      iam.destroy();
      const narrowed = await assume(caller, { RoleArn: role, RoleSessionName: 'narrowed', PolicyArns: [{ arn: `arn:aws:iam::${accountId}:policy/narrow` }] });
      assert.equal((await read(narrowed.keys, 'a/one')).SecretString, 'value of a/one');
      await refusedRead(narrowed.keys, 'b/one', /because no session policy allows/);
      const { keys } = await assume(caller, { RoleArn: role, RoleSessionName: 'managed', PolicyArns: [{ arn: `arn:aws:iam::${accountId}:policy/missing` }] });
      await refusedRead(keys, 'a/one', /because no session policy allows/);
      // GetCallerIdentity needs no permission.
      const identity = await stsClient(server, keys).send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Arn, `arn:aws:sts::${accountId}:assumed-role/reader/managed`);
    });
  });

  describe('session tags', () => {
    let tagged: string;
    before(async () => {
      tagged = await makeRole(
        'tagged-reader',
        policy(
          { Effect: 'Allow', Principal: { AWS: rootArn() }, Action: 'sts:AssumeRole' },
          { Effect: 'Allow', Principal: { AWS: rootArn() }, Action: 'sts:TagSession', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'Team', 'project'] } } },
        ),
        policy(
          allow('secretsmanager:GetSecretValue', secretArn('${aws:PrincipalTag/team}/*')),
          allow('secretsmanager:DescribeSecret', '*', { StringEquals: { 'aws:PrincipalTag/team': 'blue' } }),
        ),
        { tags: { team: 'red' } },
      );
    });

    it('feed aws:PrincipalTag in place of the role’s tag of the same key (keys compare case-insensitively)', async () => {
      const asRole = await assume(caller, { RoleArn: tagged, RoleSessionName: 'role-tags' });
      await read(asRole.keys, 'red/x');
      await refusedRead(asRole.keys, 'blue/x', /because no identity-based policy allows/);

      const asBlue = await assume(caller, { RoleArn: tagged, RoleSessionName: 'blue-tags', Tags: [{ Key: 'Team', Value: 'blue' }] });
      assert.ok(asBlue.output.PackedPolicySize! >= 1);
      assert.equal((await read(asBlue.keys, 'blue/x')).SecretString, 'value of blue/x');
      await refusedRead(asBlue.keys, 'red/x', /because no identity-based policy allows/);
      await secretsClient(server, { credentials: asBlue.keys }).send(new DescribeSecretCommand({ SecretId: secretArn('red/x') }));
      await rejectsWith(
        secretsClient(server, { credentials: asRole.keys }).send(new DescribeSecretCommand({ SecretId: secretArn('red/x') })),
        'AccessDeniedException',
      );
    });

    it('need sts:TagSession: from the trust policy, for the tags asked for, and from the caller’s identity policy when the trust delegates', async () => {
      const untagging = await makeRole('no-tag-session', trust(rootArn()), policy(allow('secretsmanager:GetSecretValue')));
      const before = accessKeyCount();
      await rejectsWith(
        assumeFails(caller, { RoleArn: untagging, RoleSessionName: 'tags', Tags: [{ Key: 'team', Value: 'blue' }] }),
        'AccessDenied',
        new RegExp(`^User: ${callerArn} is not authorized to perform: sts:TagSession on resource: ${untagging}`),
      );
      // The trust policy allows only the tag keys team and project.
      await rejectsWith(assumeFails(caller, { RoleArn: tagged, RoleSessionName: 'env', Tags: [{ Key: 'env', Value: 'prod' }] }), 'AccessDenied', /sts:TagSession/);
      assert.equal(accessKeyCount(), before);
      await assume(caller, { RoleArn: untagging, RoleSessionName: 'no-tags' });

      // A user: the trust policy delegates to the account, so the user's own policies must allow sts:TagSession too.
      const assumer = await createUser(server, root, 'tag-assumer', { policy: policy(allow('sts:AssumeRole', tagged)) });
      await rejectsWith(assumeFails(assumer.keys, { RoleArn: tagged, RoleSessionName: 'u1', Tags: [{ Key: 'team', Value: 'blue' }] }), 'AccessDenied', /sts:TagSession/);
      const tagger = await createUser(server, root, 'tag-session-user', { policy: policy(allow(['sts:AssumeRole', 'sts:TagSession'], tagged)) });
      const session = await assume(tagger.keys, { RoleArn: tagged, RoleSessionName: 'u1', Tags: [{ Key: 'team', Value: 'blue' }] });
      await read(session.keys, 'blue/x');
    });

    it('transitive tags pass through role chaining, cannot be set again, and a chained session lasts one hour at most', async () => {
      const first = await makeRole('first-hop', trust(rootArn(), ['sts:AssumeRole', 'sts:TagSession']), policy(allow('secretsmanager:GetSecretValue')), { maxSessionDuration: 43200 });
      const second = await makeRole(
        'second-hop',
        policy({ Effect: 'Allow', Principal: { AWS: [first, rootArn()] }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
        policy(
          allow('secretsmanager:GetSecretValue', secretArn('${aws:PrincipalTag/team}/*')),
          // project was not transitive: a session carrying it would be refused everything.
          deny('*', '*', { Null: { 'aws:PrincipalTag/project': 'false' } }),
        ),
        { maxSessionDuration: 43200 },
      );
      const hop1 = await assume(caller, {
        RoleArn: first,
        RoleSessionName: 'hop1',
        Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'project', Value: 'x' }],
        TransitiveTagKeys: ['TEAM'],
      });
      const hop2 = await assume(hop1.keys, { RoleArn: second, RoleSessionName: 'hop2' });
      assert.equal((await read(hop2.keys, 'blue/x')).SecretString, 'value of blue/x');
      await refusedRead(hop2.keys, 'red/x', /because no identity-based policy allows/);

      const before = accessKeyCount();
      await rejectsWith(
        assumeFails(hop1.keys, { RoleArn: second, RoleSessionName: 'hop2b', Tags: [{ Key: 'Team', Value: 'red' }] }),
        'InvalidParameterValue',
        /Team is a transitive tag of the calling session/,
      );
      await rejectsWith(
        assumeFails(hop1.keys, { RoleArn: second, RoleSessionName: 'long', DurationSeconds: 3601 }),
        'ValidationError',
        /^The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining\.$/,
      );
      assert.equal(accessKeyCount(), before);
      // Not chained, the same duration is within the role's maximum.
      await assume(caller, { RoleArn: second, RoleSessionName: 'long', DurationSeconds: 7200 });
      await assume(hop1.keys, { RoleArn: second, RoleSessionName: 'hour', DurationSeconds: 3600 });
    });
  });

  describe('source identity', () => {
    let guarded: string;
    before(async () => {
      guarded = await makeRole(
        'source-guarded',
        trust(rootArn(), ['sts:AssumeRole', 'sts:SetSourceIdentity']),
        policy(allow(['secretsmanager:GetSecretValue', 'sts:AssumeRole']), deny('secretsmanager:GetSecretValue', '*', { StringEquals: { 'aws:SourceIdentity': 'mallory' } })),
      );
    });

    it('is set once, answered by AssumeRole, and visible to policies as aws:SourceIdentity', async () => {
      const alice = await assume(caller, { RoleArn: guarded, RoleSessionName: 'alice', SourceIdentity: 'alice' });
      assert.equal(alice.output.SourceIdentity, 'alice');
      assert.equal(alice.output.PackedPolicySize, undefined);
      await read(alice.keys, 'a/one');
      const mallory = await assume(caller, { RoleArn: guarded, RoleSessionName: 'mallory', SourceIdentity: 'mallory' });
      await refusedRead(mallory.keys, 'a/one', /with an explicit deny in an identity-based policy$/);
      const nobody = await assume(caller, { RoleArn: guarded, RoleSessionName: 'nobody' });
      assert.equal(nobody.output.SourceIdentity, undefined);
      await read(nobody.keys, 'a/one');
    });

    it('passes through role chaining and cannot be changed there', async () => {
      const next = await makeRole('source-next', trust(guarded, ['sts:AssumeRole', 'sts:SetSourceIdentity']), policy(allow('secretsmanager:GetSecretValue'), deny('*', '*', { StringEquals: { 'aws:SourceIdentity': 'mallory' } })));
      const mallory = await assume(caller, { RoleArn: guarded, RoleSessionName: 'm1', SourceIdentity: 'mallory' });
      const chained = await assume(mallory.keys, { RoleArn: next, RoleSessionName: 'm2' });
      assert.equal(chained.output.SourceIdentity, 'mallory');
      await refusedRead(chained.keys, 'a/one', /explicit deny/);
      const again = await assume(mallory.keys, { RoleArn: next, RoleSessionName: 'm3', SourceIdentity: 'mallory' });
      assert.equal(again.output.SourceIdentity, 'mallory');
      await rejectsWith(
        assumeFails(mallory.keys, { RoleArn: next, RoleSessionName: 'm4', SourceIdentity: 'alice' }),
        'InvalidParameterValue',
        /source identity of the calling session cannot be changed/,
      );
    });

    it('needs sts:SetSourceIdentity in the trust policy, also when inherited through chaining', async () => {
      const plain = await makeRole('no-source-identity', trust(rootArn()), policy(allow('secretsmanager:GetSecretValue')));
      const before = accessKeyCount();
      await rejectsWith(
        assumeFails(caller, { RoleArn: plain, RoleSessionName: 'si', SourceIdentity: 'alice' }),
        'AccessDenied',
        new RegExp(`is not authorized to perform: sts:SetSourceIdentity on resource: ${plain}`),
      );
      const chainTarget = await makeRole('chain-without-si', trust(guarded), policy(allow('secretsmanager:GetSecretValue')));
      const alice = await assume(caller, { RoleArn: guarded, RoleSessionName: 'a1', SourceIdentity: 'alice' });
      const afterAlice = accessKeyCount();
      assert.equal(afterAlice, before + 1);
      await rejectsWith(assumeFails(alice.keys, { RoleArn: chainTarget, RoleSessionName: 'a2' }), 'AccessDenied', /sts:SetSourceIdentity/);
      assert.equal(accessKeyCount(), afterAlice);
      await assume(caller, { RoleArn: plain, RoleSessionName: 'si' });
    });
  });

  describe('validation', () => {
    let role: string;
    before(async () => {
      role = await makeRole('validated', trust(rootArn(), ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']), policy(allow('secretsmanager:GetSecretValue')));
    });

    const tags = (count: number) => Array.from({ length: count }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
    const cases: Array<[string, Partial<AssumeRoleCommandInput>, string, RegExp]> = [
      ['Policy that is not JSON', { Policy: '{not json' }, 'MalformedPolicyDocumentException', /^Syntax errors in policy/],
      ['Policy naming a Principal', { Policy: JSON.stringify(policy({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' })) }, 'MalformedPolicyDocumentException', /Has prohibited field Principal/],
      ['Policy with a character AWS refuses', { Policy: JSON.stringify(policy(allow('secretsmanager:GetSecretValue', 'arn:aws:secretsmanager:*:*:secret:\u0101'))) }, 'ValidationError', /at 'policy' failed to satisfy constraint/],
      ['11 PolicyArns', { PolicyArns: Array.from({ length: 11 }, (_, index) => ({ arn: `arn:aws:iam::aws:policy/P${index}` })) }, 'ValidationError', /at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10/],
      ['a PolicyArns entry that is no policy ARN', { PolicyArns: [{ arn: 'arn:aws:iam::123456789012:role/not-a-policy' }] }, 'InvalidParameterValue', /is not a managed policy ARN/],
      ['a managed policy of another account', { PolicyArns: [{ arn: 'arn:aws:iam::123456789012:policy/elsewhere' }] }, 'InvalidParameterValue', /is not in the role's account/],
      ['51 Tags', { Tags: tags(51) }, 'ValidationError', /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/],
      ['a tag key of 129 characters', { Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }, 'ValidationError', /Member must have length less than or equal to 128/],
      ['a tag value of 257 characters', { Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }, 'ValidationError', /Member must have length less than or equal to 256/],
      ['a tag key with a character AWS refuses', { Tags: [{ Key: 'a#b', Value: 'v' }] }, 'ValidationError', /Member must satisfy regular expression pattern/],
      ['tag keys that differ only in case', { Tags: [{ Key: 'Team', Value: 'a' }, { Key: 'team', Value: 'b' }] }, 'InvalidParameterValue', /^Duplicate tag keys found\. Please note that Tag keys are case insensitive\.$/],
      ['a transitive key that is not a tag', { Tags: [{ Key: 'team', Value: 'a' }], TransitiveTagKeys: ['project'] }, 'InvalidParameterValue', /transitive tag key project is not among the session tags/],
      ['51 TransitiveTagKeys', { Tags: tags(50), TransitiveTagKeys: [...tags(50).map((tag) => tag.Key), 'k0'] }, 'ValidationError', /at 'transitiveTagKeys' failed to satisfy constraint/],
      ['a SourceIdentity of 1 character', { SourceIdentity: 'a' }, 'ValidationError', /at 'sourceIdentity' failed to satisfy constraint: Member must have length greater than or equal to 2/],
      ['a SourceIdentity of 65 characters', { SourceIdentity: 'a'.repeat(65) }, 'ValidationError', /at 'sourceIdentity'.*less than or equal to 64/],
      ['a SourceIdentity starting with aws:', { SourceIdentity: 'aws:alice' }, 'ValidationError', /at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      ['a RoleSessionName of 1 character', { RoleSessionName: 'x' }, 'ValidationError', /at 'roleSessionName'/],
      ['a RoleSessionName with a space', { RoleSessionName: 'has space' }, 'ValidationError', /at 'roleSessionName'.*regular expression pattern/],
      ['DurationSeconds below 900', { DurationSeconds: 899 }, 'ValidationError', /at 'durationSeconds'.*greater than or equal to 900/],
      ['DurationSeconds above the role’s maximum', { DurationSeconds: 3601 }, 'ValidationError', /^The requested DurationSeconds exceeds the MaxSessionDuration set for this role\.$/],
      ['an MFA SerialNumber and TokenCode', { SerialNumber: 'arn:aws:iam::123456789012:mfa/u', TokenCode: '123456' }, 'InvalidParameterValue', /MFA \(SerialNumber, TokenCode\) is not supported/],
    ];

    it('each member’s limits are refused with AWS’s code and message, and no session is created', async () => {
      const before = accessKeyCount();
      for (const [what, input, code, message] of cases) {
        await assert.rejects(assumeFails(caller, { RoleArn: role, RoleSessionName: 'validated', ...input }), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(error.name, code, `${what}: ${error.message}`);
          assert.match(error.message, message, what);
          assert.equal(error.$metadata?.httpStatusCode, 400, what);
          return true;
        });
      }
      assert.equal(accessKeyCount(), before);
    });

    it('the packed size counts the policy without whitespace: too large is PackedPolicyTooLarge', async () => {
      const resources = (count: number) => Array.from({ length: count }, (_, index) => secretArn(`app-${index}/*`));
      // About 3 KB as sent, under 2,048 characters once whitespace is removed: accepted.
      const airy = JSON.stringify(policy(allow('secretsmanager:GetSecretValue', resources(20)))).replaceAll(',', `,\n${' '.repeat(40)}`);
      assert.ok(airy.length > 2048 && JSON.stringify(JSON.parse(airy)).length < 2048);
      const accepted = await assume(caller, { RoleArn: role, RoleSessionName: 'airy', Policy: airy });
      assert.ok(accepted.output.PackedPolicySize! > 50 && accepted.output.PackedPolicySize! <= 100, String(accepted.output.PackedPolicySize));

      const before = accessKeyCount();
      const dense = JSON.stringify(policy(allow('secretsmanager:GetSecretValue', resources(40))));
      await rejectsWith(
        assumeFails(caller, { RoleArn: role, RoleSessionName: 'dense', Policy: dense }),
        'PackedPolicyTooLargeException',
        /^Packed policy consumes \d{3}% of allotted space, please use smaller policy\.$/,
      );
      // Tags count toward the same packed size.
      const nearlyFull = JSON.stringify(policy(allow('secretsmanager:GetSecretValue', resources(20))));
      await rejectsWith(
        assumeFails(caller, { RoleArn: role, RoleSessionName: 'tagged', Policy: nearlyFull, Tags: tags(10).map((tag) => ({ ...tag, Value: 'v'.repeat(200) })) }),
        'PackedPolicyTooLargeException',
      );
      assert.equal(accessKeyCount(), before);
    });
  });

  it('the AWS CLI: assume-role --policy --tags --transitive-tag-keys --source-identity, then the session’s calls', async () => {
    const role = await makeRole(
      'cli-session-role',
      trust(rootArn(), ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']),
      policy(allow('secretsmanager:GetSecretValue', [secretArn('${aws:PrincipalTag/team}/*'), secretArn('a/*')])),
    );
    const sessionPolicy = JSON.stringify(policy(allow('secretsmanager:GetSecretValue', secretArn('blue/*'))));
    const options = { cwd: workDir, credentials: caller, region: REGION, env: { COFFER_URL: server.url, SESSION_POLICY: sessionPolicy } };
    const assumed = JSON.parse(
      await shellOk(
        `aws sts assume-role --role-arn ${role} --role-session-name cli --policy "$SESSION_POLICY" --tags Key=team,Value=blue --transitive-tag-keys team --source-identity cli-user --endpoint-url "$COFFER_URL"`,
        options,
      ),
    ) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }; PackedPolicySize: number; SourceIdentity: string };
    assert.equal(assumed.SourceIdentity, 'cli-user');
    assert.ok(assumed.PackedPolicySize > 0 && assumed.PackedPolicySize <= 100);
    const sessionEnv = {
      COFFER_URL: server.url,
      AWS_ACCESS_KEY_ID: assumed.Credentials.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: assumed.Credentials.SecretAccessKey,
      AWS_SESSION_TOKEN: assumed.Credentials.SessionToken,
    };
    const blue = JSON.parse(await shellOk('aws secretsmanager get-secret-value --secret-id blue/x --endpoint-url "$COFFER_URL"', { cwd: workDir, region: REGION, env: sessionEnv })) as {
      SecretString: string;
    };
    assert.equal(blue.SecretString, 'value of blue/x');
    // The role allows a/*, the session policy does not.
    const refused = await shell('aws secretsmanager get-secret-value --secret-id a/one --endpoint-url "$COFFER_URL"', { cwd: workDir, region: REGION, env: sessionEnv });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /AccessDeniedException.*no session policy allows/);
  });
});

describe('STS session attributes survive a restart', () => {
  let server: TestServer;

  after(async () => server?.cleanup());

  it('a session’s policy, tags and source identity apply after the server restarts on the same data', async () => {
    server = await startTestServer({ devMode: false });
    const { accountId, root } = await createAccount(server);
    const arn = (name: string) => `arn:aws:secretsmanager:${REGION}:${accountId}:secret:${name}`;
    const secrets = secretsClient(server, { credentials: root });
    for (const name of ['a/one', 'b/one', 'blue/x']) await secrets.send(new CreateSecretCommand({ Name: name, SecretString: name }));
    secrets.destroy();
    const iam = iamClient(server, root);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'durable',
        AssumeRolePolicyDocument: JSON.stringify(trust(`arn:aws:iam::${accountId}:root`, ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'])),
        Tags: [{ Key: 'team', Value: 'red' }],
      }),
    );
    const rolePolicy = policy(
      allow('secretsmanager:GetSecretValue', [arn('a/*'), arn('b/*'), arn('${aws:PrincipalTag/team}/*')]),
      deny('secretsmanager:GetSecretValue', arn('a/*'), { StringEquals: { 'aws:SourceIdentity': 'restarted' } }),
    );
    await iam.send(new PutRolePolicyCommand({ RoleName: 'durable', PolicyName: 'inline', PolicyDocument: JSON.stringify(rolePolicy) }));
    iam.destroy();
    const assumer = await createUser(server, root, 'durable-assumer', { policy: policy(allow('sts:*')) });
    const sts = stsClient(server, assumer.keys);
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/durable`,
        RoleSessionName: 'durable',
        Policy: JSON.stringify(policy(allow('secretsmanager:GetSecretValue', [arn('a/*'), arn('blue/*')]))),
        Tags: [{ Key: 'team', Value: 'blue' }],
        SourceIdentity: 'restarted',
      }),
    );
    sts.destroy();
    const keys = keysOf(assumed);

    await server.stop();
    const restarted = await startTestServer({ dataDir: server.dataDir, devMode: false });
    server = restarted;
    const client = secretsClient(restarted, { credentials: keys });
    const read = (name: string) => client.send(new GetSecretValueCommand({ SecretId: arn(name) }));
    // The session tag team=blue (not the role's red) opens blue/x.
    assert.equal((await read('blue/x')).SecretString, 'blue/x');
    // The session policy still narrows the role: b/one is the role's, not the session's.
    await rejectsWith(read('b/one'), 'AccessDeniedException', /because no session policy allows/);
    // The source identity still meets the role's Deny.
    await rejectsWith(read('a/one'), 'AccessDeniedException', /explicit deny in an identity-based policy/);
    client.destroy();
  });
});
