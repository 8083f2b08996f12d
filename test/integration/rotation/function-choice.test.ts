import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, GetFunctionCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { auditEvents, coffer } from '../../helpers/audit.js';
import { shellOk } from '../../helpers/aws-cli.js';
import { ManualClock } from '../../helpers/clock.js';
import { rejectsWith } from '../../helpers/kms.js';
import { buildZip, lambdaClient, ROTATION_ACTIONS, uniqueFunctionName } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * Which function a rotation runs, and what is left on record (issue 13, part 4):
 * - RotateSecret refuses a function Coffer cannot invoke (not deployed, another account, another Region) as
 *   AWS does, AccessDeniedException, and changes nothing;
 * - a function deployed under an AWS template name runs its own code as its own execution role; a built-in
 *   rotator runs only when a `coffer-builtin` function names it, and then as that function's role;
 * - every rotation outcome is an audit event (RotationStarted, RotationSucceeded, RotationFailed,
 *   RotationAbandoned), visible in LookupEvents.
 */
const CANNOT_INVOKE = /^Secrets Manager cannot invoke the specified Lambda function/;
const ACCOUNT = '000000000000';

/**
 * A rotation function of the generic template's shape that marks what it writes, so a test can tell that
 * this code ran and not a rotator built into Coffer. It reads the endpoint as AWS's templates do.
 */
const MARKING_FUNCTION = `
import json, os, uuid
import boto3

def lambda_handler(event, context):
    arn, token, step = event['SecretId'], event['ClientRequestToken'], event['Step']
    client = boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])
    print("step %s of %s" % (step, arn))
    stages = client.describe_secret(SecretId=arn)['VersionIdsToStages']
    if 'AWSCURRENT' in stages.get(token, []):
        return
    if step == 'createSecret':
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage='AWSPENDING')
        except client.exceptions.ResourceNotFoundException:
            current = json.loads(client.get_secret_value(SecretId=arn, VersionStage='AWSCURRENT')['SecretString'])
            current['password'] = 'deployed-code-' + uuid.uuid4().hex
            client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=['AWSPENDING'])
    elif step == 'finishSecret':
        old = [v for v, s in stages.items() if 'AWSCURRENT' in s][0]
        client.update_secret_version_stage(SecretId=arn, VersionStage='AWSCURRENT', MoveToVersionId=token, RemoveFromVersionId=old)
`;

let server: TestServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
const clock = new ManualClock(new Date('2026-06-01T10:00:00Z'));
let templateNamedArn: string;
let deniedBuiltinArn: string;

before(async () => {
  server = await startTestServer({ clock });
  sm = secretsClient(server);
  lambda = lambdaClient(server);
  const rotationRole = await createExecutionRole(server, 'template-named-role', ROTATION_ACTIONS);
  // A role that may look but not write: a rotator running as it cannot create the new version.
  const readOnlyRole = await createExecutionRole(server, 'read-only-rotator', ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  const templateNamed = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'SecretsManagerRDSPostgreSQLRotationSingleUser',
      Runtime: 'python3.12',
      Role: rotationRole.arn,
      Handler: 'lambda_function.lambda_handler',
      Code: { ZipFile: buildZip({ 'lambda_function.py': MARKING_FUNCTION }) },
      Timeout: 30,
    }),
  );
  templateNamedArn = templateNamed.FunctionArn!;
  const deniedBuiltin = await lambda.send(
    new CreateFunctionCommand({ FunctionName: 'read-only-builtin', Runtime: 'coffer-builtin' as never, Handler: 'mysql-single-user', Role: readOnlyRole.arn, Code: {} }),
  );
  deniedBuiltinArn = deniedBuiltin.FunctionArn!;
});
after(async () => {
  lambda?.destroy();
  await server?.cleanup();
});

async function newSecret(label: string, json: Record<string, unknown> = { username: 'app', password: 'initial-password' }) {
  const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName(label), SecretString: JSON.stringify(json) }));
  return { arn: created.ARN!, versionId: created.VersionId! };
}

/** The events LookupEvents answers for a resource, through the AWS CLI, oldest first. */
async function lookupEvents(resourceArn: string): Promise<Array<Record<string, any>>> {
  const output = await shellOk(
    `aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue=${resourceArn} --endpoint-url "${server.url}"`,
    { cwd: server.dataDir, credentials: server.admin, region: 'us-east-1' },
  );
  const events = (JSON.parse(output) as { Events: Array<{ CloudTrailEvent: string }> }).Events;
  return events.map((event) => JSON.parse(event.CloudTrailEvent) as Record<string, any>).reverse();
}

function rotationEvents(events: Array<Record<string, any>>) {
  return events.filter((event) => event.eventType === 'AwsServiceEvent');
}

describe('RotateSecret with a function Coffer cannot invoke', () => {
  it('is refused with AccessDeniedException, as AWS answers, and changes nothing: no AWSPENDING version, no schedule', async () => {
    const { arn, versionId } = await newSecret('cannot-invoke');
    const unreachable = [
      `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${uniqueFunctionName('not-deployed')}`,
      // Deployed, but in another account or another Region than the secret.
      'arn:aws:lambda:us-east-1:111122223333:function:SecretsManagerRDSPostgreSQLRotationSingleUser',
      `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:SecretsManagerRDSPostgreSQLRotationSingleUser`,
    ];
    for (const lambdaArn of unreachable) {
      const error = await rejectsWith(
        sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: lambdaArn, RotationRules: { AutomaticallyAfterDays: 7 } })),
        'AccessDeniedException',
      );
      assert.match(error.message, CANNOT_INVOKE, lambdaArn);
    }
    await server.server.coffer.rotation.idle();
    const described = await sm.send(new DescribeSecretCommand({ SecretId: arn }));
    assert.equal(described.RotationEnabled, undefined);
    assert.equal(described.RotationLambdaARN, undefined);
    assert.equal(described.RotationRules, undefined);
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: arn }));
    assert.deepEqual(
      versions.Versions!.map((version) => [version.VersionId, version.VersionStages]),
      [[versionId, ['AWSCURRENT']]],
    );
    assert.deepEqual(rotationEvents(await lookupEvents(arn)), [], 'no rotation started');
  });
});

describe('the function a rotation runs', () => {
  it('a function deployed under an AWS template name runs its own code as its own role, never a built-in rotator', async () => {
    const { arn } = await newSecret('template-named');
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: templateNamedArn }));
    await server.server.coffer.rotation.idle();

    const current = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
    assert.equal(current.VersionId, rotated.VersionId);
    assert.match(JSON.parse(current.SecretString!).password, /^deployed-code-[0-9a-f]{32}$/, 'the deployed code wrote the new version');
    const put = auditEvents(server.dataDir).find((event) => event.eventName === 'PutSecretValue' && event.requestParameters?.SecretId === arn);
    assert.equal(put?.userIdentity.type, 'AssumedRole');
    assert.equal(put?.userIdentity.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/template-named-role/SecretsManagerRDSPostgreSQLRotationSingleUser`);
  });

  it('a coffer-builtin function is a deployed function: GetFunction shows it; it needs a role and a known rotator', async () => {
    const shown = await lambda.send(new GetFunctionCommand({ FunctionName: 'read-only-builtin' }));
    assert.equal(shown.Configuration?.Runtime, 'coffer-builtin');
    assert.equal(shown.Configuration?.Handler, 'mysql-single-user');
    assert.equal(shown.Configuration?.Role, `arn:aws:iam::${ACCOUNT}:role/read-only-rotator`);
    // Invoke runs it like any function: an event that is not a rotation's is the rotator's error.
    const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'read-only-builtin', Payload: Buffer.from('{}') }));
    assert.equal(invoked.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(invoked.Payload)), {
      errorType: 'RotatorError',
      errorMessage: 'a rotation event needs SecretId and ClientRequestToken',
    });
    await rejectsWith(
      // No Role: the SDK's types require one, so the input is cast to send it without.
      lambda.send(new CreateFunctionCommand({ FunctionName: uniqueFunctionName('no-role'), Runtime: 'coffer-builtin', Handler: 'mysql-single-user', Code: {} } as never)),
      'ValidationException',
    );
    const unknown = await rejectsWith(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: uniqueFunctionName('unknown-rotator'),
          Runtime: 'coffer-builtin' as never,
          Handler: 'SecretsManagerRDSMySQLRotationSingleUser',
          Role: `arn:aws:iam::${ACCOUNT}:role/read-only-rotator`,
          Code: {},
        }),
      ),
      'InvalidParameterValueException',
    );
    assert.match(unknown.message, /postgres-single-user/);
  });

  it("a built-in rotator runs as its function's execution role: what the role may not do is denied and audited as that role", async () => {
    const { arn, versionId } = await newSecret('builtin-as-role', { engine: 'mysql', host: '127.0.0.1', port: 3306, username: 'app', password: 'initial-password' });
    await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: deniedBuiltinArn }));
    await server.server.coffer.rotation.idle();

    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).VersionId, versionId, 'AWSCURRENT unchanged');
    const denied = auditEvents(server.dataDir).filter((event) => event.errorCode === 'AccessDeniedException' && event.userIdentity?.arn?.endsWith('/read-only-builtin'));
    assert.ok(denied.length > 0, 'a refused call of the rotator, recorded as the role session');
    assert.equal(denied[0]!.userIdentity.type, 'AssumedRole');
    assert.equal(denied[0]!.userIdentity.arn, `arn:aws:sts::${ACCOUNT}:assumed-role/read-only-rotator/read-only-builtin`);
    assert.equal(denied[0]!.userAgent, 'coffer-builtin/mysql-single-user');
  });
});

describe('rotation outcomes in the audit log', () => {
  it('RotationStarted and RotationSucceeded, as AwsServiceEvents in LookupEvents, without any value', async () => {
    const { arn } = await newSecret('audited-success');
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: templateNamedArn }));
    await server.server.coffer.rotation.idle();

    const events = rotationEvents(await lookupEvents(arn));
    assert.deepEqual(
      events.map((event) => event.eventName),
      ['RotationStarted', 'RotationSucceeded'],
    );
    for (const event of events) {
      assert.equal(event.eventSource, 'secretsmanager.amazonaws.com');
      assert.equal(event.userIdentity.invokedBy, 'secretsmanager.amazonaws.com');
      assert.equal(event.recipientAccountId, ACCOUNT);
      assert.equal(event.additionalEventData.VersionId, rotated.VersionId);
      assert.deepEqual(event.resources, [{ ARN: arn, accountId: ACCOUNT }]);
    }
    const newPassword = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString!).password as string;
    const text = JSON.stringify(auditEvents(server.dataDir));
    assert.ok(!text.includes(newPassword) && !text.includes('initial-password'), 'no secret value in the audit log');
  });

  it('RotationFailed for each failed attempt with the failing step, and RotationAbandoned when the retries run out', async () => {
    const { arn } = await newSecret('audited-failure', { engine: 'mysql', host: '127.0.0.1', port: 3306, username: 'app', password: 'initial-password' });
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: arn, RotationLambdaARN: deniedBuiltinArn }));
    await server.server.coffer.rotation.idle();
    // Four more attempts, each after its backoff (at most a few minutes here).
    for (let attempt = 2; attempt <= 5; attempt++) {
      clock.advanceMs(60 * 60_000);
      await server.server.coffer.runMaintenance();
    }

    const events = rotationEvents(await lookupEvents(arn));
    assert.deepEqual(
      events.map((event) => event.eventName),
      ['RotationStarted', 'RotationFailed', 'RotationFailed', 'RotationFailed', 'RotationFailed', 'RotationFailed', 'RotationAbandoned'],
    );
    const abandoned = events.at(-1)!;
    assert.deepEqual(abandoned.additionalEventData, { VersionId: rotated.VersionId, Step: 'createSecret', Attempts: 5, ErrorCode: 'AccessDeniedException' });
    assert.equal(events[1]!.additionalEventData.Step, 'createSecret');
    assert.equal(events[1]!.additionalEventData.Attempts, 1);
  });

  it('rotation events are sealed into the chain like every event: coffer audit verify finds it intact', async () => {
    await server.stop();
    const result = await coffer(['audit', 'verify', '--data-dir', server.dataDir]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /chain intact/);
  });
});
