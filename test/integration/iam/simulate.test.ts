import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  GetContextKeysForCustomPolicyCommand,
  GetContextKeysForPrincipalPolicyCommand,
  SimulateCustomPolicyCommand,
  SimulatePrincipalPolicyCommand,
  type ContextEntry,
  type EvaluationResult,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutResourcePolicyCommand } from '@aws-sdk/client-secrets-manager';
import { shellOk } from '../../helpers/aws-cli.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { assumeRole, createAccount, createRole, createUser, iamClient, type Keys } from '../../helpers/principals.js';

const GET = 'secretsmanager:GetSecretValue';
const DESCRIBE = 'secretsmanager:DescribeSecret';

/** Whether the real request is allowed: AccessDeniedException is a refusal; anything else is not our concern. */
async function realDecision(send: () => Promise<unknown>): Promise<'allowed' | 'denied'> {
  try {
    await send();
    return 'allowed';
  } catch (error) {
    if ((error as Error).name === 'AccessDeniedException') return 'denied';
    throw error;
  }
}

/** allowed ↔ allowed; explicitDeny and implicitDeny ↔ a refusal. */
function sameAnswer(real: 'allowed' | 'denied', simulated: string | undefined): void {
  assert.equal(simulated === 'allowed' ? 'allowed' : 'denied', real, `real request ${real}, simulation ${simulated}`);
}

/**
 * SimulatePrincipalPolicy and SimulateCustomPolicy give the answer a real request gives: each case makes the
 * real request with the principal's keys and the simulation side by side.
 */
describe('IAM policy simulation against real requests', () => {
  let server: TestServer;
  let accountId: string;
  let root: Keys;
  let secretArn: string;
  let otherSecretArn: string;

  before(async () => {
    server = await startTestServer({ devMode: false });
    ({ accountId, root } = await createAccount(server));
    const secrets = secretsClient(server, { credentials: root });
    secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'app/db', SecretString: 's3cr3t', Tags: [{ Key: 'env', Value: 'dev' }] }))).ARN!;
    otherSecretArn = (await secrets.send(new CreateSecretCommand({ Name: 'other', SecretString: 'x' }))).ARN!;
  });
  after(async () => server.cleanup());

  async function simulate(policySourceArn: string, actions: string[], resources: string[], extra: { ContextEntries?: ContextEntry[]; ResourcePolicy?: string; CallerArn?: string } = {}) {
    const answer = await iamClient(server, root).send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: policySourceArn, ActionNames: actions, ResourceArns: resources, ...extra }),
    );
    return answer.EvaluationResults ?? [];
  }

  it('an allow and an implicit deny: the same answers as GetSecretValue and DescribeSecret, with the matched statement', async () => {
    const policy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": "${GET}",
      "Resource": "${secretArn}"
    }
  ]
}`;
    const reader = await createUser(server, root, 'reader', { policy });
    const client = secretsClient(server, { credentials: reader.keys });
    const results = await simulate(reader.arn, [GET, DESCRIBE], [secretArn]);
    assert.equal(results.length, 2);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: secretArn }))), results[0]!.EvalDecision);
    sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: secretArn }))), results[1]!.EvalDecision);
    assert.equal(results[0]!.EvalDecision, 'allowed');
    assert.equal(results[1]!.EvalDecision, 'implicitDeny');
    assert.equal(results[0]!.EvalActionName, GET);
    assert.equal(results[0]!.EvalResourceName, secretArn);
    // The statement's `{` is on line 4, column 5; its `}` on line 9, column 5 (the end is just past it).
    assert.deepEqual(results[0]!.MatchedStatements, [
      { SourcePolicyId: 'inline', SourcePolicyType: 'user', StartPosition: { Line: 4, Column: 5 }, EndPosition: { Line: 9, Column: 6 } },
    ]);
    assert.deepEqual(results[1]!.MatchedStatements ?? [], []);
    assert.equal(results[0]!.ResourceSpecificResults?.[0]?.EvalResourceDecision, 'allowed');
  });

  it('an explicit deny beats an allow, and only the deny statement is reported', async () => {
    const denied = await createUser(server, root, 'denied', {
      policy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' },
          { Sid: 'NoDb', Effect: 'Deny', Action: GET, Resource: 'arn:aws:secretsmanager:*:*:secret:app/*' },
        ],
      },
    });
    const client = secretsClient(server, { credentials: denied.keys });
    const [onDb, onOther] = await simulate(denied.arn, [GET], [secretArn, otherSecretArn]);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: secretArn }))), onDb!.EvalDecision);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: otherSecretArn }))), onOther!.EvalDecision);
    assert.equal(onDb!.EvalDecision, 'explicitDeny');
    assert.equal(onOther!.EvalDecision, 'allowed');
    assert.equal(onDb!.MatchedStatements?.length, 1);
    assert.equal(onDb!.MatchedStatements![0]!.SourcePolicyId, 'inline');
    // JSON.stringify writes one line: the second statement starts after the first.
    assert.equal(onDb!.MatchedStatements![0]!.StartPosition?.Line, 1);
    assert.ok(onDb!.MatchedStatements![0]!.StartPosition!.Column! > 60);
  });

  it('conditions on the principal tag and policy variables take the simulated principal’s values', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: GET, Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'blue' } } },
        { Effect: 'Allow', Action: DESCRIBE, Resource: 'arn:aws:secretsmanager:*:*:secret:${aws:username}*' },
      ],
    };
    const blue = await createUser(server, root, 'blue', { policy, tags: { team: 'blue' } });
    const red = await createUser(server, root, 'red', { policy, tags: { team: 'red' } });
    for (const user of [blue, red]) {
      const client = secretsClient(server, { credentials: user.keys });
      const [get, describeOther, describeApp] = [
        ...(await simulate(user.arn, [GET], [secretArn])),
        ...(await simulate(user.arn, [DESCRIBE], [otherSecretArn, secretArn])),
      ];
      sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: secretArn }))), get!.EvalDecision);
      sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: otherSecretArn }))), describeOther!.EvalDecision);
      sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: secretArn }))), describeApp!.EvalDecision);
      assert.equal(get!.EvalDecision, user === blue ? 'allowed' : 'implicitDeny');
      assert.equal(describeApp!.EvalDecision, 'implicitDeny');
    }
    // ${aws:username}: a user named like the secret may describe it.
    const other = await createUser(server, root, 'other', { policy });
    const [describe] = await simulate(other.arn, [DESCRIBE], [otherSecretArn]);
    sameAnswer(await realDecision(() => secretsClient(server, { credentials: other.keys }).send(new DescribeSecretCommand({ SecretId: otherSecretArn }))), describe!.EvalDecision);
    assert.equal(describe!.EvalDecision, 'allowed');
  });

  it('a condition on the resource tag: missing unless ContextEntries give it, then the real answer', async () => {
    const tagged = await createUser(server, root, 'tagged', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: GET, Resource: '*', Condition: { StringEquals: { 'secretsmanager:ResourceTag/env': 'dev' } } }] },
    });
    const [bare] = await simulate(tagged.arn, [GET], [secretArn]);
    assert.equal(bare!.EvalDecision, 'implicitDeny');
    assert.deepEqual(bare!.MissingContextValues, ['secretsmanager:ResourceTag/env']);
    const [given] = await simulate(tagged.arn, [GET], [secretArn], {
      ContextEntries: [{ ContextKeyName: 'secretsmanager:ResourceTag/env', ContextKeyValues: ['dev'], ContextKeyType: 'string' }],
    });
    assert.deepEqual(given!.MissingContextValues ?? [], []);
    sameAnswer(await realDecision(() => secretsClient(server, { credentials: tagged.keys }).send(new GetSecretValueCommand({ SecretId: secretArn }))), given!.EvalDecision);
    assert.equal(given!.EvalDecision, 'allowed');
  });

  it('a secret’s resource policy: the user with no identity policy is allowed by it, as the real request is', async () => {
    const secrets = secretsClient(server, { credentials: root });
    const viaPolicy = await createUser(server, root, 'via-resource-policy');
    const resourcePolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'LetIn', Effect: 'Allow', Principal: { AWS: viaPolicy.arn }, Action: DESCRIBE, Resource: '*' }],
    });
    const arn = (await secrets.send(new CreateSecretCommand({ Name: 'shared', SecretString: 'v' }))).ARN!;
    await secrets.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: resourcePolicy }));
    const [describe, get] = await simulate(viaPolicy.arn, [DESCRIBE, GET], [arn], { ResourcePolicy: resourcePolicy });
    const client = secretsClient(server, { credentials: viaPolicy.keys });
    sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: arn }))), describe!.EvalDecision);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: arn }))), get!.EvalDecision);
    assert.equal(describe!.EvalDecision, 'allowed');
    assert.deepEqual(describe!.MatchedStatements?.map((statement) => [statement.SourcePolicyId, statement.SourcePolicyType]), [['ResourcePolicy', 'resource']]);
    assert.deepEqual(describe!.EvalDecisionDetails, { 'IAM Policy': 'implicitDeny', 'Resource Policy': 'allowed' });
  });

  it('cross-account: both the caller’s identity policy and the secret’s resource policy must allow', async () => {
    const other = await createAccount(server);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: DESCRIBE, Resource: '*' }] };
    const outsider = await createUser(server, other.root, 'outsider', { policy });
    const secrets = secretsClient(server, { credentials: root });
    const arn = (await secrets.send(new CreateSecretCommand({ Name: 'cross', SecretString: 'v' }))).ARN!;
    const resourcePolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: outsider.arn }, Action: DESCRIBE, Resource: '*' }] });
    const client = secretsClient(server, { credentials: outsider.keys });
    const simulateAsOutsider = async (withPolicy: boolean) =>
      (
        await iamClient(server, other.root).send(
          new SimulatePrincipalPolicyCommand({ PolicySourceArn: outsider.arn, ActionNames: [DESCRIBE], ResourceArns: [arn], ResourcePolicy: withPolicy ? resourcePolicy : undefined }),
        )
      ).EvaluationResults![0]!;

    const before = await simulateAsOutsider(false);
    sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: arn }))), before.EvalDecision);
    assert.equal(before.EvalDecision, 'implicitDeny');

    await secrets.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: resourcePolicy }));
    const afterPolicy = await simulateAsOutsider(true);
    sameAnswer(await realDecision(() => client.send(new DescribeSecretCommand({ SecretId: arn }))), afterPolicy.EvalDecision);
    assert.equal(afterPolicy.EvalDecision, 'allowed');
    assert.equal(afterPolicy.EvalResourceName, arn);
  });

  it('a role is simulated as its session: the same answers as the assumed role’s requests', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' }] };
    const role = await createRole(server, root, 'reader-role', trust, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: GET, Resource: secretArn, Condition: { StringEquals: { 'aws:PrincipalType': 'AssumedRole' } } }],
    });
    const session = await assumeRole(server, root, role.arn);
    const client = secretsClient(server, { credentials: session });
    const [get, getOther] = await simulate(role.arn, [GET], [secretArn, otherSecretArn]);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: secretArn }))), get!.EvalDecision);
    sameAnswer(await realDecision(() => client.send(new GetSecretValueCommand({ SecretId: otherSecretArn }))), getOther!.EvalDecision);
    assert.equal(get!.EvalDecision, 'allowed');
    assert.equal(get!.MatchedStatements?.[0]?.SourcePolicyType, 'role');
  });

  it('PolicyInputList adds policies to the principal’s, and a permissions boundary caps them', async () => {
    const plain = await createUser(server, root, 'plain');
    const allowAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] });
    const describeOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: DESCRIBE, Resource: '*' }] });
    const answer = await iamClient(server, root).send(
      new SimulatePrincipalPolicyCommand({ PolicySourceArn: plain.arn, ActionNames: [GET, DESCRIBE], PolicyInputList: [allowAll], PermissionsBoundaryPolicyInputList: [describeOnly] }),
    );
    const [get, describe] = answer.EvaluationResults!;
    assert.equal(get!.EvalDecision, 'implicitDeny');
    assert.deepEqual(get!.PermissionsBoundaryDecisionDetail, { AllowedByPermissionsBoundary: false });
    assert.equal(describe!.EvalDecision, 'allowed');
    assert.equal(describe!.EvalResourceName, '*');
    assert.deepEqual(describe!.MatchedStatements?.map((statement) => statement.SourcePolicyId), ['PolicyInputList.1']);
  });

  it('SimulateCustomPolicy: only the policies given, with the caller’s keys; paged by MaxItems/Marker', async () => {
    const iam = iamClient(server, root);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }],
    });
    const first = await iam.send(new SimulateCustomPolicyCommand({ PolicyInputList: [policy], ActionNames: [GET, DESCRIBE, 'kms:Decrypt'], MaxItems: 2 }));
    assert.equal(first.EvaluationResults?.length, 2);
    assert.equal(first.IsTruncated, true);
    // Coffer's test server speaks plain HTTP, so aws:SecureTransport is false, as it would be for a real request.
    assert.equal(first.EvaluationResults![0]!.EvalDecision, 'implicitDeny');
    const rest = await iam.send(new SimulateCustomPolicyCommand({ PolicyInputList: [policy], ActionNames: [GET, DESCRIBE, 'kms:Decrypt'], MaxItems: 2, Marker: first.Marker }));
    assert.deepEqual(rest.EvaluationResults?.map((result) => result.EvalActionName), ['kms:Decrypt']);
    assert.equal(rest.IsTruncated, false);
    const overridden = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [policy],
        ActionNames: [GET],
        ContextEntries: [{ ContextKeyName: 'aws:SecureTransport', ContextKeyType: 'boolean', ContextKeyValues: ['true'] }],
      }),
    );
    assert.equal(overridden.EvaluationResults![0]!.EvalDecision, 'allowed');
    assert.equal(overridden.EvaluationResults![0]!.MatchedStatements![0]!.SourcePolicyId, 'PolicyInputList.1');
  });

  it('GetContextKeysForPrincipalPolicy and GetContextKeysForCustomPolicy list the keys as written', async () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: GET, Resource: 'arn:aws:secretsmanager:*:*:secret:${aws:username}-*', Condition: { StringEquals: { 'aws:PrincipalTag/Team': 'x' } } },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, StringEquals: { 'AWS:PrincipalTag/team': 'y' } } },
      ],
    };
    const keyed = await createUser(server, root, 'keyed', { policy });
    const iam = iamClient(server, root);
    const forPrincipal = await iam.send(new GetContextKeysForPrincipalPolicyCommand({ PolicySourceArn: keyed.arn }));
    assert.deepEqual(forPrincipal.ContextKeyNames, ['aws:username', 'aws:PrincipalTag/Team', 'aws:SourceIp']);
    const custom = await iam.send(
      new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }] })] }),
    );
    assert.deepEqual(custom.ContextKeyNames, ['aws:MultiFactorAuthPresent']);
  });

  it('refusals and errors: permission on the source, unknown principals, groups, bad input', async () => {
    const nobody = await createUser(server, root, 'no-simulation');
    const iam = iamClient(server, nobody.keys);
    await assert.rejects(iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: nobody.arn, ActionNames: [GET] })), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, new RegExp(`not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${nobody.arn}`));
      return true;
    });
    await assert.rejects(iam.send(new SimulateCustomPolicyCommand({ PolicyInputList: ['{"Version":"2012-10-17","Statement":[]}'], ActionNames: [GET] })), (error: Error) => {
      assert.equal(error.name, 'AccessDenied');
      assert.match(error.message, /iam:SimulateCustomPolicy on resource: \*/);
      return true;
    });
    // Allowed on its own ARN only.
    const self = await createUser(server, root, 'self-simulator', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: 'arn:aws:iam::*:user/${aws:username}' }] },
    });
    const selfIam = iamClient(server, self.keys);
    const own = await selfIam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: self.arn, ActionNames: ['iam:SimulatePrincipalPolicy'], ResourceArns: [self.arn] }));
    assert.equal(own.EvaluationResults![0]!.EvalDecision, 'allowed');
    await assert.rejects(selfIam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: nobody.arn, ActionNames: [GET] })), { name: 'AccessDenied' });

    const admin = iamClient(server, root);
    await assert.rejects(admin.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${accountId}:user/ghost`, ActionNames: [GET] })), {
      name: 'NoSuchEntityException',
      message: 'The user with name ghost cannot be found.',
    });
    await assert.rejects(admin.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${accountId}:group/devs`, ActionNames: [GET] })), {
      name: 'NoSuchEntityException',
    });
    await assert.rejects(admin.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:s3:::some-bucket-name`, ActionNames: [GET] })), { name: 'InvalidInputException' });
    await assert.rejects(admin.send(new SimulateCustomPolicyCommand({ PolicyInputList: ['{"Statement":'], ActionNames: [GET] })), { name: 'InvalidInputException' });
    await assert.rejects(
      admin.send(
        new SimulateCustomPolicyCommand({
          PolicyInputList: ['{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'],
          ActionNames: [GET],
          ContextEntries: [{ ContextKeyName: 'aws:EpochTime', ContextKeyType: 'numeric', ContextKeyValues: ['soon'] }],
        }),
      ),
      { name: 'InvalidInputException' },
    );
  });

  it('the AWS CLI: aws iam simulate-principal-policy', async () => {
    const user = await createUser(server, root, 'cli-reader', {
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: GET, Resource: '*' }] },
    });
    const cwd = mkdtempSync(join(tmpdir(), 'coffer-simulate-cli-'));
    try {
      const out = await shellOk(
        `aws iam simulate-principal-policy --policy-source-arn ${user.arn} --action-names ${GET} ${DESCRIBE} --endpoint-url "${server.url}" --output json`,
        { cwd, credentials: root, region: 'us-east-1' },
      );
      const results = (JSON.parse(out) as { EvaluationResults: EvaluationResult[] }).EvaluationResults;
      assert.deepEqual(
        results.map((result) => [result.EvalActionName, result.EvalResourceName, result.EvalDecision]),
        [
          [GET, '*', 'allowed'],
          [DESCRIBE, '*', 'implicitDeny'],
        ],
      );
      assert.equal(results[0]!.MatchedStatements![0]!.SourcePolicyId, 'inline');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
