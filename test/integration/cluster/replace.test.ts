import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { coffer } from '../../helpers/audit.js';
import { killChildServers, startChildServer, type ChildServer } from '../../helpers/child-server.js';
import { uniqueSecretName } from '../../helpers/secrets.js';

/** A worker that dies is logged and replaced; the cluster keeps serving and still stops cleanly. */
describe('coffer server --workers 2 when a worker dies', () => {
  let dataDir: string;
  let server: ChildServer;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'coffer-cluster-replace-'));
    server = await startChildServer({ dataDir, args: ['--workers', '2'] });
  });
  after(async () => {
    await killChildServers();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}.audit-anchors`, { force: true });
  });

  it('replaces it, keeps serving, and keeps one chain', async () => {
    const pid = Number(/worker 2 \(pid (\d+)\) ready/.exec(server.stderr())![1]);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    while (!/replacement worker \(pid \d+\) ready/.test(server.stderr())) {
      assert.ok(Date.now() < deadline, `no replacement was started:\n${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(server.stderr(), new RegExp(`worker pid ${pid} died \\(code null, signal SIGKILL\\); starting a replacement`));

    const clients = Array.from({ length: 6 }, () => new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: server.printedAdmin!, maxAttempts: 1 }));
    await Promise.all(
      clients.map(async (client) => {
        const name = uniqueSecretName('after-replace');
        await client.send(new CreateSecretCommand({ Name: name, SecretString: name }));
        assert.equal((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString, name);
      }),
    );
    const exit = await server.stop('SIGTERM');
    assert.equal(exit.code, 0, server.stderr());
    const served = [...server.stderr().matchAll(/worker pid (\d+) stopped after serving (\d+) requests/g)];
    assert.equal(served.length, 2);
    assert.ok(!served.some((match) => Number(match[1]) === pid));
    const verify = await coffer(['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout.split('\n')[0], '12 events, chain intact');
  });
});
