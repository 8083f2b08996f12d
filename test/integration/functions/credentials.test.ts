import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { createAuthenticator, createCredentials } from '../../../src/auth/index.js';
import { AwsError } from '../../../src/core/index.js';
import { Keyring } from '../../../src/crypto/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { ManualClock } from '../../helpers/clock.js';
import { buildZip, lambdaClient, ROLE, uniqueFunctionName } from '../../helpers/lambda.js';
import { secretsClient } from '../../helpers/secrets.js';
import { signedHeaders } from '../../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { createExecutionRole } from '../../helpers/principals.js';

/** For this test only: a function that hands back the key it was given, so the test can try it. */
const LEAKS_ITS_KEY = `import os


def lambda_handler(event, context):
    return {'AccessKeyId': os.environ['AWS_ACCESS_KEY_ID'], 'SecretAccessKey': os.environ['AWS_SECRET_ACCESS_KEY']}
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
    const key = JSON.parse(new TextDecoder().decode(response.Payload)) as { AccessKeyId: string; SecretAccessKey: string };
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

    const asFunction = secretsClient(server, { credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey } });
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

describe('temporary access keys (auth/credentials.ts)', () => {
  let dir: string;
  let store: SqliteStore;
  let keyring: Keyring;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coffer-temp-keys-'));
    store = new SqliteStore(join(dir, 'coffer.db'));
    await store.migrate();
    keyring = new Keyring(randomBytes(32));
  });
  after(async () => {
    await store.close();
    keyring.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('are refused from their expiry on, by resolve and by SigV4 authentication, without waiting for deletion', async () => {
    const clock = new ManualClock(new Date());
    const credentials = createCredentials({ store, keyring, devMode: false, clock });
    const key = await credentials.createTemporaryAccessKey('123456789012', 'arn:aws:sts::123456789012:assumed-role/r/f', 1000);
    assert.equal(key.expiresAt.getTime(), clock.now().getTime() + 1000);
    assert.equal(JSON.stringify(key.secretAccessKey), '"[redacted]"');

    const signedAt = clock.now();
    const resolved = await credentials.resolve(key.accessKeyId, new Date(signedAt.getTime() + 999));
    assert.equal(resolved?.principal.accountId, '123456789012');
    assert.equal(resolved?.principal.arn, 'arn:aws:sts::123456789012:assumed-role/r/f');
    assert.equal(await credentials.resolve(key.accessKeyId, new Date(signedAt.getTime() + 1000)), undefined);

    // The same signed request: accepted just before expiry, refused at it (the signature itself is still fresh).
    const authenticate = createAuthenticator(credentials);
    const headers = await signedHeaders('http://127.0.0.1:1', {
      target: 'secretsmanager.ListSecrets',
      service: 'secretsmanager',
      credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey.reveal() },
      signingDate: signedAt,
    });
    const request = { method: 'POST', path: '/', query: '', headers: { ...headers, host: '127.0.0.1:1' }, body: Buffer.from('{}') };
    const accepted = await authenticate(request, new Date(signedAt.getTime() + 500));
    assert.equal(accepted.principal.accessKeyId, key.accessKeyId);
    await assert.rejects(authenticate(request, new Date(signedAt.getTime() + 1500)), (error: unknown) => {
      assert.ok(error instanceof AwsError);
      assert.equal(error.code, 'UnrecognizedClientException');
      return true;
    });

    assert.equal(await store.deleteExpiredAccessKeys(new Date(signedAt.getTime() + 999)), 0);
    assert.equal(await store.deleteExpiredAccessKeys(new Date(signedAt.getTime() + 1000)), 1);
    assert.equal(await store.getAccessKey(key.accessKeyId), undefined);
  });
});
