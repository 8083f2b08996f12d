import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { buildZip, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { createExecutionRole } from '../../helpers/principals.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * CancelRotateSecret on a secret whose rotation is unfinished: Secrets Manager asks the rotation module (its
 * RotationStarter port) to end that rotation, answers with its token, and the secret may rotate again.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html
 */
const FAILING_FUNCTION = `
def lambda_handler(event, context):
    raise RuntimeError("this rotation function always fails")
`;

let server: TestServer;
let sm: SecretsManagerClient;
let functionArn: string;

before(async () => {
  server = await startTestServer();
  await createExecutionRole(server, 'coffer-test-function', []);
  sm = secretsClient(server);
  const created = await lambdaClient(server).send(
    new CreateFunctionCommand({
      FunctionName: uniqueFunctionName('always-fails'),
      Runtime: 'python3.11',
      Role: ROLE,
      Handler: 'lambda_function.lambda_handler',
      Code: { ZipFile: buildZip({ 'lambda_function.py': FAILING_FUNCTION }) },
    }),
  );
  functionArn = created.FunctionArn!;
});
after(async () => server?.cleanup());

describe('CancelRotateSecret of an unfinished rotation', () => {
  it('ends the rotation, answers its VersionId, and a new RotateSecret starts a new rotation', async () => {
    const name = uniqueSecretName('cancel-unfinished');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
    const failed = await sm.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: functionArn }));
    await server.server.coffer.rotation.idle();

    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: name }));
    assert.equal(cancelled.VersionId, failed.VersionId, 'the cancelled rotation is named by its token');
    assert.equal((await sm.send(new DescribeSecretCommand({ SecretId: name }))).RotationEnabled, false);

    const again = await sm.send(new RotateSecretCommand({ SecretId: name }));
    assert.ok(again.VersionId);
    assert.notEqual(again.VersionId, failed.VersionId, 'not refused as "a previous rotation isn\'t complete"');
    await server.server.coffer.rotation.idle();
  });

  it('without an unfinished rotation answers no VersionId', async () => {
    const name = uniqueSecretName('cancel-idle');
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
    const cancelled = await sm.send(new CancelRotateSecretCommand({ SecretId: name }));
    assert.equal(cancelled.VersionId, undefined);
  });
});
