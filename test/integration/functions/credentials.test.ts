import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { buildZip, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { secretsClient } from '../../helpers/secrets.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createExecutionRole } from '../../helpers/principals.js';

/** For this test only: a function that hands back the key it was given, so the test can try it. */
const LEAKS_ITS_KEY = `import os


def lambda_handler(event, context):
    return {'AccessKeyId': os.environ['AWS_ACCESS_KEY_ID'], 'SecretAccessKey': os.environ['AWS_SECRET_ACCESS_KEY'], 'SessionToken': os.environ['AWS_SESSION_TOKEN']}
`;

describe('credentials minted for an invocation', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    // With authorization on, the function's role needs a policy for what the function calls.
    await createExecutionRole(server, 'coffer-test-function', ['secretsmanager:ListSecrets']);
  });
  after(async () => {
    await server.cleanup();
  });

  it('are a real key of the account that expires Timeout + 60 s after minting and is deleted by the maintenance pass', async () => {
    const lambda = lambdaClient(server);
    const name = uniqueFunctionName('leaks');
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'python3.11',
        Role: ROLE,
        Handler: 'lambda_function.lambda_handler',
        Timeout: 5,
        Code: { ZipFile: buildZip({ 'lambda_function.py': LEAKS_ITS_KEY }) },
      }),
    );
    const mintedAfter = Date.now();
    const response = await lambda.send(new InvokeCommand({ FunctionName: name }));
    const mintedBefore = Date.now();
    const key = JSON.parse(new TextDecoder().decode(response.Payload)) as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
    assert.match(key.AccessKeyId, /^ASIA/);

    const db = new Database(join(server.dataDir, 'coffer.db'), { readonly: true });
    const row = db.prepare('SELECT account_id, principal_arn, expires_at FROM access_keys WHERE access_key_id = ?').get(key.AccessKeyId) as
      | { account_id: string; principal_arn: string; expires_at: number }
      | undefined;
    db.close();
    assert.ok(row, 'the key is stored');
    assert.equal(row.account_id, '000000000000');
    assert.equal(row.principal_arn, `arn:aws:sts::000000000000:assumed-role/coffer-test-function/${name}`);
    assert.ok(row.expires_at >= mintedAfter + 65_000 && row.expires_at <= mintedBefore + 65_000, 'expires Timeout + 60 s after minting');

    const asFunction = secretsClient(server, { credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, sessionToken: key.SessionToken } });
    await asFunction.send(new ListSecretsCommand({}));

    // Before expiry the pass leaves it; once its time has passed, the pass deletes it and it stops working.
    assert.equal((await server.server.coffer.functions.maintenance.runDue(new Date(row.expires_at - 1))).expiredKeysDeleted, 0);
    await asFunction.send(new ListSecretsCommand({}));
    const { expiredKeysDeleted } = await server.server.coffer.functions.maintenance.runDue(new Date(row.expires_at));
    assert.ok(expiredKeysDeleted >= 1);
    await assert.rejects(asFunction.send(new ListSecretsCommand({})), { name: 'UnrecognizedClientException' });
    lambda.destroy();
  });
});
