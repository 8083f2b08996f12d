import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand } from '@aws-sdk/client-lambda';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { startHttpRotationFunction, type HttpRotationFunction } from '../../helpers/http-rotation-function.js';
import { rejectsWith } from '../../helpers/kms.js';
import { lambdaClient } from '../../helpers/lambda.js';
import { secretsClient, uniqueSecretName } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * After finishSecret the runner checks that AWSCURRENT moved, as AWS does. A client's write that moves
 * AWSCURRENT on right after finishSecret (a PutSecretValue, through this node or another) does not make the
 * rotation fail: failing it would run finishSecret again, which takes AWSCURRENT back from that newer write.
 * A function that answers finishSecret without moving AWSCURRENT still fails its rotation.
 */
describe('the check after finishSecret', () => {
  let server: TestServer;
  let sm: SecretsManagerClient;
  let rotationFunction: HttpRotationFunction;
  let idleFunction: Server;

  const labelsOf = async (secretId: string) => {
    const { Versions } = await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }));
    return Object.fromEntries((Versions ?? []).map((version) => [version.VersionId!, [...(version.VersionStages ?? [])].sort()]));
  };

  before(async () => {
    server = await startTestServer();
    sm = secretsClient(server);
    rotationFunction = await startHttpRotationFunction({ nodes: () => new Map([[process.pid, server.url]]), credentials: server.admin });
    // A function that answers every step with success and does nothing.
    idleFunction = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('null'));
    });
    await new Promise<void>((resolve) => idleFunction.listen(0, '127.0.0.1', resolve));
    const lambda = lambdaClient(server);
    for (const [name, url] of [
      ['template-rotator', rotationFunction.url],
      ['idle-rotator', `http://127.0.0.1:${(idleFunction.address() as AddressInfo).port}/`],
    ]) {
      await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'coffer-http' as never, Role: undefined, Code: {}, Timeout: 30, Environment: { Variables: { COFFER_FUNCTION_URL: url! } } }));
    }
    lambda.destroy();
  });
  after(async () => {
    await rotationFunction?.close();
    idleFunction?.closeAllConnections();
    await new Promise((resolve) => idleFunction?.close(resolve));
    await server?.cleanup();
  });

  it('a PutSecretValue between finishSecret and the check: the rotation succeeds, finishSecret runs once, the newer value stays AWSCURRENT', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('finish'), SecretString: 'first' }));
    const finished = rotationFunction.hold('finishSecret', 'after');
    const rotated = await sm.send(
      new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:template-rotator' }),
    );
    await finished.arrived;
    const put = await sm.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'written after finishSecret' }));
    finished.release();
    await server.server.coffer.rotation.idle();

    const steps = rotationFunction.invocations.filter((invocation) => invocation.token === rotated.VersionId).map((invocation) => invocation.step);
    assert.deepEqual(steps, ['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    assert.deepEqual(await labelsOf(created.ARN!), { [created.VersionId!]: [], [rotated.VersionId!]: ['AWSPREVIOUS'], [put.VersionId!]: ['AWSCURRENT'] });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString, 'written after finishSecret');
    // The rotation is over: a new one starts.
    const next = await sm.send(new RotateSecretCommand({ SecretId: created.ARN }));
    await server.server.coffer.rotation.idle();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).VersionId, next.VersionId);
  });

  it('an UpdateSecretVersionStage that moves AWSCURRENT back between finishSecret and the check: the rotation succeeds, finishSecret runs once, the old version stays AWSCURRENT', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('back'), SecretString: 'first' }));
    const finished = rotationFunction.hold('finishSecret', 'after');
    const rotated = await sm.send(
      new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:template-rotator' }),
    );
    await finished.arrived;
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: created.ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: created.VersionId, RemoveFromVersionId: rotated.VersionId }),
    );
    finished.release();
    await server.server.coffer.rotation.idle();

    const steps = rotationFunction.invocations.filter((invocation) => invocation.token === rotated.VersionId).map((invocation) => invocation.step);
    assert.deepEqual(steps, ['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    assert.deepEqual(await labelsOf(created.ARN!), { [created.VersionId!]: ['AWSCURRENT'], [rotated.VersionId!]: ['AWSPREVIOUS'] });
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString, 'first');
    const next = await sm.send(new RotateSecretCommand({ SecretId: created.ARN }));
    await server.server.coffer.rotation.idle();
    assert.equal((await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }))).VersionId, next.VersionId);
  });

  it('a finishSecret that leaves AWSCURRENT where it was fails the rotation', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: uniqueSecretName('idle'), SecretString: 'first' }));
    const rotated = await sm.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:idle-rotator' }));
    await server.server.coffer.rotation.idle();
    assert.deepEqual(await labelsOf(created.ARN!), { [created.VersionId!]: ['AWSCURRENT'], [rotated.VersionId!]: ['AWSPENDING'] });
    const refused = await rejectsWith(sm.send(new RotateSecretCommand({ SecretId: created.ARN })), 'InvalidRequestException');
    assert.match(refused.message, /previous rotation isn't complete/);
    await server.server.coffer.rotation.idle();
  });
});
