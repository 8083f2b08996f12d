import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { auditEvents, coffer } from '../../helpers/audit.js';
import { killChildServers, runCofferUntilExit, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { uniqueSecretName } from '../../helpers/secrets.js';
import { rawCall } from '../../helpers/signed-fetch.js';

/**
 * `coffer server --workers 2`: two server processes on one port and one data dir, the primary writing the audit
 * log for both. Real SDK clients, each with its own connections (the primary hands connections to the workers
 * in turn), write to the same secret and to different ones at once; every acknowledged version is readable
 * afterwards, and the audit chain holds exactly one event per call.
 */
const CLIENTS = 20;
const SECRETS = 5;

describe('coffer server --workers 2', () => {
  let dataDir: string;
  let server: ChildServer;
  /** Every API call this test made, by operation: the audit log must hold exactly these. */
  const calls = new Map<string, number>();
  const count = (operation: string, times = 1) => calls.set(operation, (calls.get(operation) ?? 0) + times);

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-cluster-'));
    server = await startChildServer({ dataDir, args: ['--workers', '2'] });
  });
  after(async () => {
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  const secretsClient = () => new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: server.printedAdmin!, maxAttempts: 1 });
  const kmsClient = () => new KMSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.printedAdmin!, maxAttempts: 1 });

  it('announces once: one root key note, one set of administrator credentials, one listening line', () => {
    assert.ok(server.printedAdmin, server.stdout());
    assert.equal(server.stdout().match(/Coffer listening on/g)?.length, 1, server.stdout());
    assert.equal(server.stdout().match(/Administrator credentials created/g)?.length, 1, server.stdout());
    assert.equal(server.stdout().match(/export AWS_SECRET_ACCESS_KEY=/g), null, 'the secret key stays in admin-credentials');
    assert.equal(server.stderr().match(/A NEW ROOT KEY WAS CREATED/g)?.length, 1, server.stderr());
    assert.match(server.stderr(), /worker 1 \(pid \d+\) ready/);
    assert.match(server.stderr(), /worker 2 \(pid \d+\) ready/);
  });

  it('serves concurrent writes to the same and to different secrets from 20 clients; every acknowledged version reads back', async () => {
    const setup = secretsClient();
    const shared = uniqueSecretName('shared');
    const own = Array.from({ length: SECRETS }, (_, index) => uniqueSecretName(`own-${index}`));
    for (const name of [shared, ...own]) {
      await setup.send(new CreateSecretCommand({ Name: name, SecretString: 'initial' }));
      count('CreateSecret');
    }
    const clients = Array.from({ length: CLIENTS }, () => secretsClient());
    const acknowledged: Array<{ secret: string; versionId: string; value: string }> = [];
    await Promise.all(
      clients.flatMap((client, index) =>
        [shared, own[index % SECRETS]!, shared].map(async (secret, step) => {
          const value = `client ${index} step ${step} of ${secret}`;
          const put = await client.send(new PutSecretValueCommand({ SecretId: secret, SecretString: value }));
          acknowledged.push({ secret, versionId: put.VersionId!, value });
        }),
      ),
    );
    count('PutSecretValue', CLIENTS * 3);
    assert.equal(acknowledged.length, CLIENTS * 3);
    for (const { secret, versionId, value } of acknowledged) {
      const read = await setup.send(new GetSecretValueCommand({ SecretId: secret, VersionId: versionId }));
      count('GetSecretValue');
      assert.equal(read.SecretString, value);
    }
    // The shared secret's AWSCURRENT is one of the values written to it.
    const current = await setup.send(new GetSecretValueCommand({ SecretId: shared }));
    count('GetSecretValue');
    assert.ok(acknowledged.some((put) => put.secret === shared && put.versionId === current.VersionId && put.value === current.SecretString));
  });

  it('a read through either worker sees the change acknowledged just before through the other (no stale read cache)', async () => {
    // One writer connection, then three reader connections opened one after another: the primary hands
    // connections to the two workers in turn, so at least one reader is served by the worker that never
    // writes, whose read cache only a change of PRAGMA data_version can empty. DescribeSecret writes nothing.
    const name = uniqueSecretName('read-your-write');
    const writer = secretsClient();
    await writer.send(new CreateSecretCommand({ Name: name, SecretString: 'v0', Description: 'd0' }));
    count('CreateSecret');
    const readers = [];
    for (let index = 0; index < 3; index++) {
      const reader = secretsClient();
      assert.equal((await reader.send(new DescribeSecretCommand({ SecretId: name }))).Description, 'd0');
      readers.push(reader);
    }
    for (let round = 1; round <= 30; round++) {
      await writer.send(new UpdateSecretCommand({ SecretId: name, Description: `d${round}` }));
      for (const reader of readers) assert.equal((await reader.send(new DescribeSecretCommand({ SecretId: name }))).Description, `d${round}`, `round ${round}`);
    }
    count('DescribeSecret', 3 + 30 * 3);
    count('UpdateSecret', 30);
  });

  it('KMS Encrypt and Decrypt from many clients at once', async () => {
    const { KeyMetadata } = await kmsClient().send(new CreateKeyCommand({}));
    count('CreateKey');
    const clients = Array.from({ length: CLIENTS }, () => kmsClient());
    await Promise.all(
      clients.map(async (client, index) => {
        const plaintext = Buffer.from(`message ${index}`);
        const { CiphertextBlob } = await client.send(new EncryptCommand({ KeyId: KeyMetadata!.KeyId, Plaintext: plaintext }));
        const { Plaintext } = await client.send(new DecryptCommand({ CiphertextBlob }));
        assert.deepEqual(Buffer.from(Plaintext!), plaintext);
      }),
    );
    count('Encrypt', CLIENTS);
    count('Decrypt', CLIENTS);
  });

  it('LookupEvents answers from the one audit log, whichever worker serves it', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const response = await rawCall(server.url, {
        target: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents',
        service: 'cloudtrail',
        credentials: server.printedAdmin,
        body: JSON.stringify({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'Encrypt' }], MaxResults: 50 }),
      });
      count('LookupEvents');
      assert.equal(response.status, 200, response.text);
      assert.equal((response.json!.Events as unknown[]).length, CLIENTS);
    }
  });

  it('stops on SIGTERM with exit 0 after both workers served requests; the chain verifies and holds one event per call', async () => {
    const exit = await server.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
    const served = [...server.stderr().matchAll(/worker pid (\d+) stopped after serving (\d+) requests/g)].map((match) => ({ pid: match[1], requests: Number(match[2]) }));
    assert.equal(served.length, 2, server.stderr());
    assert.equal(new Set(served.map((worker) => worker.pid)).size, 2);
    for (const worker of served) assert.ok(worker.requests > 0, `worker ${worker.pid} served no request`);
    const total = [...calls.values()].reduce((sum, value) => sum + value, 0);
    assert.equal(served.reduce((sum, worker) => sum + worker.requests, 0), total);

    const verify = await coffer(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.split('\n')[0], `${total} events, chain intact`);
    const recorded = new Map<string, number>();
    for (const event of auditEvents(dataDir)) recorded.set(event.eventName, (recorded.get(event.eventName) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...recorded].sort()), Object.fromEntries([...calls].sort()));
  });

  it('refuses --workers with :memory: or a bad count (exit 2, a clear message)', async () => {
    for (const [args, message] of [
      [['--workers', '0'], /--workers must be a whole number from 1 to 64, not 0/],
      [['--workers', 'two'], /--workers must be a whole number from 1 to 64, not two/],
      [['--workers', '2', '--data-dir', ':memory:'], /--workers above 1 needs a data dir on disk/],
    ] as const) {
      const result = await runCofferUntilExit({ dataDir: join(dataDir, 'unused'), args: [...args] });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
    }
    const fromEnv = await runCofferUntilExit({ dataDir: join(dataDir, 'unused'), env: { COFFER_WORKERS: '-1' } });
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /--workers must be a whole number from 1 to 64, not -1/);
  });
});
