import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { buildZip, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { rejectsWith } from '../../helpers/kms.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createExecutionRole } from '../../helpers/principals.js';

/**
 * A rotation function written the way AWS's documentation shows (the generic rotation template: one boto3
 * call per step), deployed unchanged through the Lambda API, run by Coffer in a child process against
 * Coffer itself. https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
const ROTATION_FUNCTION = `
import json
import logging
import os

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    arn = event['SecretId']
    token = event['ClientRequestToken']
    step = event['Step']
    service_client = boto3.client('secretsmanager', endpoint_url=os.environ.get('AWS_ENDPOINT_URL'))

    metadata = service_client.describe_secret(SecretId=arn)
    if not metadata['RotationEnabled']:
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata['VersionIdsToStages']
    if token not in versions:
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        return
    elif "AWSPENDING" not in versions[token]:
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))

    if step == "createSecret":
        create_secret(service_client, arn, token)
    elif step == "setSecret":
        set_secret(service_client, arn, token)
    elif step == "testSecret":
        test_secret(service_client, arn, token)
    elif step == "finishSecret":
        finish_secret(service_client, arn, token)
    else:
        raise ValueError("Invalid step parameter")


def create_secret(service_client, arn, token):
    current = json.loads(service_client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")['SecretString'])
    try:
        service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    except service_client.exceptions.ResourceNotFoundException:
        exclude = os.environ.get('EXCLUDE_CHARACTERS', '/@"\\'\\\\')
        current['password'] = service_client.get_random_password(ExcludeCharacters=exclude)['RandomPassword']
        service_client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(current), VersionStages=['AWSPENDING'])


def set_secret(service_client, arn, token):
    pending = json.loads(service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")['SecretString'])
    if os.environ.get('FAIL_SET_SECRET') == pending['username']:
        raise RuntimeError("the service refused the new password")


def test_secret(service_client, arn, token):
    service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")


def finish_secret(service_client, arn, token):
    metadata = service_client.describe_secret(SecretId=arn)
    current_version = None
    for version in metadata["VersionIdsToStages"]:
        if "AWSCURRENT" in metadata["VersionIdsToStages"][version]:
            if version == token:
                return
            current_version = version
            break
    service_client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_version)
`;

let server: TestServer;
let sm: SecretsManagerClient;
let lambda: LambdaClient;
let functionArn: string;

before(async () => {
  server = await startTestServer();
  // The rotation function's role allows what a rotation function calls, as AWS's rotation templates ask for.
  await createExecutionRole(server, 'coffer-test-function', [
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetSecretValue',
    'secretsmanager:PutSecretValue',
    'secretsmanager:UpdateSecretVersionStage',
    'secretsmanager:GetRandomPassword',
  ]);
  sm = secretsClient(server);
  lambda = lambdaClient(server);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: uniqueFunctionName('generic-rotation'),
      Runtime: 'python3.11',
      Role: ROLE,
      Handler: 'lambda_function.lambda_handler',
      Code: { ZipFile: buildZip({ 'lambda_function.py': ROTATION_FUNCTION }) },
      Timeout: 30,
      Environment: { Variables: { FAIL_SET_SECRET: 'refused-user' } },
    }),
  );
  functionArn = created.FunctionArn!;
});
after(async () => server?.cleanup());

async function current(name: string) {
  const value = await sm.send(new GetSecretValueCommand({ SecretId: name }));
  return { versionId: value.VersionId!, json: JSON.parse(value.SecretString!) as Record<string, string> };
}

describe('RotateSecret with a hosted Python rotation function', () => {
  it('runs the four steps through boto3 against Coffer and makes the new value AWSCURRENT', async () => {
    const name = uniqueSecretName('hosted');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'app', password: 'initial' }) }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: functionArn, RotationRules: { AutomaticallyAfterDays: 7 } }));
    await server.server.coffer.rotation.idle();

    const after = await current(name);
    assert.equal(after.versionId, rotated.VersionId);
    assert.equal(after.json.username, 'app');
    assert.notEqual(after.json.password, 'initial');
    assert.equal(after.json.password?.length, 32, 'GetRandomPassword default length');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.equal(described.RotationLambdaARN, functionArn);
    assert.ok(described.LastRotatedDate);
    assert.deepEqual(Object.values(described.VersionIdsToStages!).flat().sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('a step that raises keeps AWSCURRENT, leaves AWSPENDING and refuses a new RotateSecret until the rotation completes', async () => {
    const name = uniqueSecretName('hosted-fails');
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ username: 'refused-user', password: 'initial' }) }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: functionArn }));
    await server.server.coffer.rotation.idle();

    assert.equal((await current(name)).versionId, created.VersionId);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    assert.deepEqual(described.VersionIdsToStages?.[rotated.VersionId!], ['AWSPENDING']);
    const refused = await rejectsWith(sm.send(new RotateSecretCommand({ SecretId: name })), 'InvalidRequestException');
    assert.match(refused.message, /previous rotation isn't complete/);
    await server.server.coffer.rotation.idle();
    assert.equal((await current(name)).versionId, created.VersionId, 'still failing: still the old value');
  });
});
