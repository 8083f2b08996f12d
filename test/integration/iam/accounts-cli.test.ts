import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { COFFER_BIN, childEnv } from '../../helpers/child-server.js';
import { stsClient } from '../../helpers/principals.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

const run = promisify(execFile);

/** `coffer accounts create --data-dir`: a new account whose root key works against the running server. */
describe('coffer accounts create', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ devMode: false });
  });
  after(async () => server.cleanup());

  it('prints a new 12-digit account id and a root key that the running server accepts', async () => {
    const { stdout } = await run(COFFER_BIN, ['accounts', 'create', '--data-dir', server.dataDir], { env: childEnv() });
    const accountId = /^account (\d{12}) created/m.exec(stdout)?.[1];
    const accessKeyId = /^export AWS_ACCESS_KEY_ID=(\S+)$/m.exec(stdout)?.[1];
    const secretAccessKey = /^export AWS_SECRET_ACCESS_KEY=(\S+)$/m.exec(stdout)?.[1];
    assert.ok(accountId && accessKeyId && secretAccessKey, stdout);
    assert.notEqual(accountId, '000000000000');
    // Like admin-credentials: the lines that point the AWS CLI at this server, not only the key.
    assert.match(stdout, new RegExp(`^export AWS_ENDPOINT_URL=${server.url.replace(/[.]/g, '\\.')}$`, 'm'));
    assert.match(stdout, /^export AWS_DEFAULT_REGION=\$\{AWS_DEFAULT_REGION:-us-east-1\}$/m);

    const identity = await stsClient(server, { accessKeyId, secretAccessKey }).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Account, accountId);
    assert.equal(identity.Arn, `arn:aws:iam::${accountId}:root`);
  });

  it('--endpoint-url names the endpoint to print', async () => {
    const { stdout } = await run(COFFER_BIN, ['accounts', 'create', '--data-dir', server.dataDir, '--endpoint-url', 'https://coffer.example.test'], { env: childEnv() });
    assert.match(stdout, /^export AWS_ENDPOINT_URL=https:\/\/coffer\.example\.test$/m);
  });

  it('refuses a directory without a Coffer database', async () => {
    await assert.rejects(run(COFFER_BIN, ['accounts', 'create', '--data-dir', '/nonexistent-coffer-dir'], { env: childEnv() }), (error: Error & { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /holds no Coffer database/);
      return true;
    });
  });
});
