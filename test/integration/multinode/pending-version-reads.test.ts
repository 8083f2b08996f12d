import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { startPostgresNodes, type PostgresNodes } from '../../helpers/postgres-nodes.js';

/**
 * A rotation function's calls may reach any node (a load balancer in front of them). createSecret asks one node
 * for the AWSPENDING version, finds RotateSecret's value-less placeholder (ResourceNotFoundException, as AWS's
 * templates expect), and writes the value through another; testSecret then reads it back through the first.
 * Each node keeps point reads up to 500 ms (its read cache): a placeholder kept there would answer
 * ResourceNotFoundException for a value already written, and the rotation would fail its step. Placeholders
 * are never kept.
 */
describe('the AWSPENDING placeholder read through one node, filled through another', () => {
  let cluster: PostgresNodes;
  let idleFunction: Server;

  before(async () => {
    cluster = await startPostgresNodes(2);
    // The rotation itself is not what is tested: a function that answers every step and does nothing.
    idleFunction = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.end('null'));
    });
    await new Promise<void>((resolve) => idleFunction.listen(0, '127.0.0.1', resolve));
    const lambda = new LambdaClient({ endpoint: cluster.nodes[0]!.url, region: 'us-east-1', credentials: cluster.admin, maxAttempts: 1 });
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'idle',
        Runtime: 'coffer-http' as never,
        Role: undefined,
        Code: {},
        Environment: { Variables: { COFFER_FUNCTION_URL: `http://127.0.0.1:${(idleFunction.address() as AddressInfo).port}/` } },
      }),
    );
    lambda.destroy();
  });
  after(async () => {
    await Promise.all(cluster?.nodes.map((node) => node.server.coffer.rotation.idle()) ?? []);
    idleFunction?.closeAllConnections();
    await new Promise((resolve) => idleFunction?.close(resolve));
    await cluster?.dispose();
  });

  it('reads the value through the first node as soon as the second acknowledged it', async () => {
    const [a, b] = cluster.nodes.map((node) => cluster.secrets(node));
    const created = await a!.send(new CreateSecretCommand({ Name: 'pending/read-through-two', SecretString: 'current' }));
    const rotated = await a!.send(new RotateSecretCommand({ SecretId: created.ARN, RotationLambdaARN: 'arn:aws:lambda:us-east-1:000000000000:function:idle' }));
    const pending = { SecretId: created.ARN, VersionId: rotated.VersionId, VersionStage: 'AWSPENDING' };
    const byStage = { SecretId: created.ARN, VersionStage: 'AWSPENDING' };
    for (let read = 0; read < 2; read++) {
      await assert.rejects(b!.send(new GetSecretValueCommand(pending)), { name: 'ResourceNotFoundException' });
      await assert.rejects(b!.send(new GetSecretValueCommand(byStage)), { name: 'ResourceNotFoundException' });
    }
    await a!.send(new PutSecretValueCommand({ SecretId: created.ARN, ClientRequestToken: rotated.VersionId, SecretString: 'pending value', VersionStages: ['AWSPENDING'] }));
    assert.equal((await b!.send(new GetSecretValueCommand(pending))).SecretString, 'pending value');
    assert.equal((await b!.send(new GetSecretValueCommand(byStage))).SecretString, 'pending value');
  });
});
