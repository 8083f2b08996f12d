import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ValidateResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { shell, shellOk } from '../../helpers/aws-cli.js';
import { rejectsWith } from '../../helpers/kms.js';
import { runPythonOk } from '../../helpers/python.js';
import { ACCOUNT_ID, secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Secret resource policies with the account root as the caller: GetResourcePolicy, PutResourcePolicy
 * (BlockPublicPolicy, MalformedPolicyDocumentException), DeleteResourcePolicy, ValidateResourcePolicy, and the
 * resource policy's explicit Deny, which binds even the root, with conditions on the secret's tags, the version
 * stage and the request's tags.
 */

const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

const READ_BY_OWN_ACCOUNT = policy({
  Sid: 'OwnAccountReads',
  Effect: 'Allow',
  Principal: { AWS: ROOT_ARN },
  Action: 'secretsmanager:GetSecretValue',
  Resource: '*',
});
const PUBLIC_READ = policy({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' });

let server: TestServer;
let sm: SecretsManagerClient;

before(async () => {
  server = await startTestServer();
  sm = secretsClient(server);
});
after(async () => server.cleanup());

async function newSecret(label: string, value = 'v1') {
  const name = uniqueSecretName(label);
  const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return { name, arn: created.ARN! };
}

describe('resource policy CRUD', () => {
  it('GetResourcePolicy answers ARN and Name without ResourcePolicy until one is put, then the text as put', async () => {
    const { name, arn } = await newSecret('policy-crud');
    const before = await sm.send(new GetResourcePolicyCommand({ SecretId: name }));
    assert.equal(before.ARN, arn);
    assert.equal(before.Name, name);
    assert.equal(before.ResourcePolicy, undefined);

    const put = await sm.send(new PutResourcePolicyCommand({ SecretId: arn, ResourcePolicy: READ_BY_OWN_ACCOUNT }));
    assert.deepEqual({ ARN: put.ARN, Name: put.Name }, { ARN: arn, Name: name });
    const got = await sm.send(new GetResourcePolicyCommand({ SecretId: name }));
    assert.equal(got.ResourcePolicy, READ_BY_OWN_ACCOUNT);

    const deleted = await sm.send(new DeleteResourcePolicyCommand({ SecretId: name }));
    assert.deepEqual({ ARN: deleted.ARN, Name: deleted.Name }, { ARN: arn, Name: name });
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, undefined);
    // Deleting a policy that is not there is no error.
    await sm.send(new DeleteResourcePolicyCommand({ SecretId: name }));
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    const missing = uniqueSecretName('no-such-secret');
    await rejectsWith(sm.send(new GetResourcePolicyCommand({ SecretId: missing })), 'ResourceNotFoundException');
    await rejectsWith(sm.send(new PutResourcePolicyCommand({ SecretId: missing, ResourcePolicy: READ_BY_OWN_ACCOUNT })), 'ResourceNotFoundException');
    await rejectsWith(sm.send(new DeleteResourcePolicyCommand({ SecretId: missing })), 'ResourceNotFoundException');
  });

  it('refuses a policy with a syntax error or without a Principal with MalformedPolicyDocumentException, storing nothing', async () => {
    const { name } = await newSecret('policy-malformed');
    const syntax = await rejectsWith(
      sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: '{"Version": "2012-10-17", "Statement": [' })),
      'MalformedPolicyDocumentException',
    );
    assert.match(syntax.message, /JSON_SYNTAX_ERROR/);
    const noPrincipal = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    const missing = await rejectsWith(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: noPrincipal })), 'MalformedPolicyDocumentException');
    assert.match(missing.message, /MISSING_PRINCIPAL/);
    const badEffect = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Principal: '*', Action: '*', Resource: '*' }] });
    await rejectsWith(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: badEffect })), 'MalformedPolicyDocumentException');
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, undefined);
  });

  it('with BlockPublicPolicy refuses a public policy with PublicPolicyException; without it the policy is stored', async () => {
    const { name } = await newSecret('policy-public');
    const refused = await rejectsWith(
      sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PUBLIC_READ, BlockPublicPolicy: true })),
      'PublicPolicyException',
    );
    assert.match(refused.message, /BlockPublicPolicy/);
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, undefined);

    // A condition that limits the wildcard principal to one account is not public.
    const limited = policy({
      Effect: 'Allow',
      Principal: '*',
      Action: 'secretsmanager:GetSecretValue',
      Resource: '*',
      Condition: { StringEquals: { 'aws:PrincipalAccount': ACCOUNT_ID } },
    });
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: limited, BlockPublicPolicy: true }));
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, limited);

    // "By default, public policies aren't blocked."
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: PUBLIC_READ }));
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, PUBLIC_READ);
  });

  it('refuses PutResourcePolicy on a secret scheduled for deletion, but GetResourcePolicy still answers', async () => {
    const { name } = await newSecret('policy-deleted');
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: READ_BY_OWN_ACCOUNT }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    await rejectsWith(sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: READ_BY_OWN_ACCOUNT })), 'InvalidRequestException');
    assert.equal((await sm.send(new GetResourcePolicyCommand({ SecretId: name }))).ResourcePolicy, READ_BY_OWN_ACCOUNT);
  });
});

describe('ValidateResourcePolicy', () => {
  it('passes a policy that names its principal', async () => {
    const result = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: READ_BY_OWN_ACCOUNT }));
    assert.equal(result.PolicyValidationPassed, true);
    assert.deepEqual(result.ValidationErrors ?? [], []);
  });

  it('fails a public policy with a PUBLIC_ACCESS check, and a policy without Principal with MISSING_PRINCIPAL', async () => {
    const { name } = await newSecret('validate');
    const open = await sm.send(new ValidateResourcePolicyCommand({ SecretId: name, ResourcePolicy: PUBLIC_READ }));
    assert.equal(open.PolicyValidationPassed, false);
    assert.deepEqual(open.ValidationErrors?.map((entry) => entry.CheckName), ['PUBLIC_ACCESS']);
    assert.ok(open.ValidationErrors?.[0]?.ErrorMessage);

    const noPrincipal = policy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    const missing = await sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: noPrincipal }));
    assert.equal(missing.PolicyValidationPassed, false);
    assert.ok(missing.ValidationErrors?.some((entry) => entry.CheckName === 'MISSING_PRINCIPAL'));
  });

  it('answers MalformedPolicyDocumentException for text that is not JSON', async () => {
    await rejectsWith(sm.send(new ValidateResourcePolicyCommand({ ResourcePolicy: 'not a policy' })), 'MalformedPolicyDocumentException');
  });
});

describe('an explicit Deny in the resource policy binds the account root', () => {
  it('refuses GetSecretValue with AWS message naming the root, the action and the secret as given, while other actions work', async () => {
    const { name, arn } = await newSecret('deny-root', 'guarded');
    const denyRead = policy({ Effect: 'Deny', Principal: { AWS: ROOT_ARN }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: denyRead }));

    const denied = await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: name })), 'AccessDeniedException');
    assert.equal(
      denied.message,
      `User: ${ROOT_ARN} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${name} with an explicit deny in a resource-based policy`,
    );
    assert.ok(!denied.message.includes('guarded'));
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).ARN, arn);
    // Writes are not denied; reads stay denied whichever way the secret is named.
    await sm.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'guarded-2' }));
    await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: arn })), 'AccessDeniedException');

    await sm.send(new DeleteResourcePolicyCommand({ SecretId: name }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'guarded-2');
  });

  it('a Deny of everyone ("*") on every action locks the secret, even against removing the policy', async () => {
    const { name } = await newSecret('deny-all');
    await sm.send(new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy({ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*' }) }));
    await rejectsWith(sm.send(new DescribeSecretCommand({ SecretId: name })), 'AccessDeniedException');
    await rejectsWith(sm.send(new DeleteResourcePolicyCommand({ SecretId: name })), 'AccessDeniedException');
    await rejectsWith(sm.send(new GetResourcePolicyCommand({ SecretId: name })), 'AccessDeniedException');
  });

  it('BatchGetSecretValue reports the denied secret in Errors and returns the others', async () => {
    const open = await newSecret('batch-open', 'open-value');
    const guarded = await newSecret('batch-guarded', 'guarded-value');
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: guarded.name,
        ResourcePolicy: policy({ Effect: 'Deny', Principal: { AWS: ROOT_ARN }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }),
      }),
    );
    const result = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: [open.name, guarded.name] }));
    assert.deepEqual(result.SecretValues?.map((value) => value.SecretString), ['open-value']);
    assert.equal(result.Errors?.length, 1);
    assert.equal(result.Errors?.[0]?.SecretId, guarded.name);
    assert.equal(result.Errors?.[0]?.ErrorCode, 'AccessDeniedException');
    assert.match(result.Errors?.[0]?.Message ?? '', /explicit deny in a resource-based policy/);

    const byFilter = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch-'] }] }));
    assert.deepEqual(byFilter.SecretValues?.map((value) => value.Name), [open.name]);
    assert.deepEqual(byFilter.Errors?.map((error) => error.ErrorCode), ['AccessDeniedException']);
    assert.ok(!JSON.stringify(byFilter.Errors).includes('guarded-value'));
  });

  it('a condition on secretsmanager:VersionStage denies AWSPREVIOUS and lets AWSCURRENT through', async () => {
    const { name } = await newSecret('deny-stage', 'old');
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new' }));
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: policy({
          Effect: 'Deny',
          Principal: { AWS: ROOT_ARN },
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
          Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSPREVIOUS' } },
        }),
      }),
    );
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'new');
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }))).SecretString, 'new');
    await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })), 'AccessDeniedException');
  });

  it('a condition on secretsmanager:ResourceTag follows the secret\'s tags as they change', async () => {
    const { name } = await newSecret('deny-tag', 'tagged');
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: policy({
          Effect: 'Deny',
          Principal: { AWS: ROOT_ARN },
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
          Condition: { StringEquals: { 'secretsmanager:ResourceTag/classification': 'restricted' } },
        }),
      }),
    );
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'tagged');
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'classification', Value: 'restricted' }] }));
    await rejectsWith(sm.send(new GetSecretValueCommand({ SecretId: name })), 'AccessDeniedException');
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'classification', Value: 'internal' }] }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'tagged');
  });

  it('a condition on aws:ResourceTag and aws:TagKeys guards the tags themselves', async () => {
    const { name } = await newSecret('deny-tagkeys');
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'owner', Value: 'team-a' }] }));
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: name,
        ResourcePolicy: policy(
          {
            Sid: 'NoOwnerChanges',
            Effect: 'Deny',
            Principal: '*',
            Action: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
            Resource: '*',
            Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['owner'] } },
          },
          {
            Sid: 'TeamAOnlyReadsWhenOwned',
            Effect: 'Deny',
            Principal: '*',
            Action: 'secretsmanager:GetSecretValue',
            Resource: '*',
            Condition: { StringNotEquals: { 'aws:ResourceTag/owner': 'team-a' } },
          },
        ),
      }),
    );
    await rejectsWith(sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'owner', Value: 'team-b' }] })), 'AccessDeniedException');
    await rejectsWith(sm.send(new UntagResourceCommand({ SecretId: name, TagKeys: ['owner'] })), 'AccessDeniedException');
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: 'env', Value: 'prod' }] }));
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, 'v1');
    const tags = (await sm.send(new DescribeSecretCommand({ SecretId: name }))).Tags;
    assert.deepEqual(tags?.map((tag) => `${tag.Key}=${tag.Value}`).sort(), ['env=prod', 'owner=team-a']);
  });
});

describe('resource policies with the AWS CLI and boto3', () => {
  let workDir: string;
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'coffer-policy-cli-'));
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  const cli = () => ({ cwd: workDir, credentials: server.admin, region: 'us-east-1', env: { COFFER_URL: server.url } });

  it('put-resource-policy --block-public-policy, get-resource-policy, validate-resource-policy and delete-resource-policy', async () => {
    const { name, arn } = await newSecret('cli-policy');
    const put = JSON.parse(
      await shellOk(`aws secretsmanager put-resource-policy --secret-id ${name} --resource-policy '${READ_BY_OWN_ACCOUNT}' --block-public-policy --endpoint-url "$COFFER_URL"`, cli()),
    ) as { ARN: string; Name: string };
    assert.deepEqual(put, { ARN: arn, Name: name });
    const got = JSON.parse(await shellOk(`aws secretsmanager get-resource-policy --secret-id ${name} --endpoint-url "$COFFER_URL"`, cli())) as { ResourcePolicy: string };
    assert.deepEqual(JSON.parse(got.ResourcePolicy), JSON.parse(READ_BY_OWN_ACCOUNT));

    const refused = await shell(
      `aws secretsmanager put-resource-policy --secret-id ${name} --resource-policy '${PUBLIC_READ}' --block-public-policy --endpoint-url "$COFFER_URL"`,
      cli(),
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /PublicPolicyException/);

    const validated = JSON.parse(
      await shellOk(`aws secretsmanager validate-resource-policy --resource-policy '${PUBLIC_READ}' --endpoint-url "$COFFER_URL"`, cli()),
    ) as { PolicyValidationPassed: boolean; ValidationErrors: Array<{ CheckName: string }> };
    assert.equal(validated.PolicyValidationPassed, false);
    assert.equal(validated.ValidationErrors[0]?.CheckName, 'PUBLIC_ACCESS');

    await shellOk(`aws secretsmanager delete-resource-policy --secret-id ${name} --endpoint-url "$COFFER_URL"`, cli());
    const after = JSON.parse(await shellOk(`aws secretsmanager get-resource-policy --secret-id ${name} --endpoint-url "$COFFER_URL"`, cli())) as { ResourcePolicy?: string };
    assert.equal(after.ResourcePolicy, undefined);
  });

  it('boto3 sees a resource-policy Deny as AccessDeniedException and a malformed policy as MalformedPolicyDocumentException', async () => {
    const { name } = await newSecret('boto3-policy', 'boto3-value');
    const denyRead = policy({ Effect: 'Deny', Principal: { AWS: ROOT_ARN }, Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    const source = `
import json, boto3
sm = boto3.client('secretsmanager')
name = ${JSON.stringify(name)}
sm.put_resource_policy(SecretId=name, ResourcePolicy=${JSON.stringify(denyRead)})
out = {}
try:
    sm.get_secret_value(SecretId=name)
    out['read'] = 'allowed'
except sm.exceptions.ClientError as error:
    out['read'] = error.response['Error']['Code']
try:
    sm.put_resource_policy(SecretId=name, ResourcePolicy='{"Statement": [')
    out['malformed'] = 'stored'
except sm.exceptions.MalformedPolicyDocumentException:
    out['malformed'] = 'MalformedPolicyDocumentException'
out['policy'] = json.loads(sm.get_resource_policy(SecretId=name)['ResourcePolicy'])
print(json.dumps(out))
`;
    const output = await runPythonOk('policy.py', source, { cwd: workDir, credentials: server.admin, endpointUrl: server.url });
    const result = JSON.parse(output.trim().split('\n').pop()!) as { read: string; malformed: string; policy: unknown };
    assert.equal(result.read, 'AccessDeniedException');
    assert.equal(result.malformed, 'MalformedPolicyDocumentException');
    assert.deepEqual(result.policy, JSON.parse(denyRead));
  });
});
