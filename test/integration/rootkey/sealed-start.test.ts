import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { splitRootKey } from '../../../src/crypto/index.js';
import { childEnv, COFFER_BIN, killChildServers, REPO_ROOT, startChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, runCofferWithInput, waitFor, writeSample } from './rootkey-helpers.js';

/** `coffer server` on a data dir whose root key is kept as shares: it prints "Coffer sealed on URL" and waits. */
function startSealed(dataDir: string) {
  const child = spawn(process.execPath, [COFFER_BIN, 'server', '--port', '0', '--data-dir', dataDir], { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    async url(): Promise<string> {
      await waitFor(() => /Coffer sealed on (\S+)/.test(stdout), 15_000);
      return /Coffer sealed on (\S+)/.exec(stdout)![1]!;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function sharesIn(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8').trim());
}

const unseal = (url: string, share: string) => runCofferWithInput(['unseal', '--url', url], share + '\n');

describe('sealed start: the root key as Shamir shares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-sealed-'));
  after(async () => {
    await killChildServers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves nothing but a sealed /health until K shares are entered; a wrong combination is refused without naming a share; rekey reshares', async () => {
    const dataDir = join(dir, 'data');
    const server = await startChildServer({ dataDir });
    const admin = adminOf(dataDir);
    const { KeyMetadata } = await clients(server.url, admin).kms.send(new CreateKeyCommand({}));
    const written = await writeSample(server.url, admin, KeyMetadata!.KeyId!, 2, 'sealed');

    // A key file becomes 3 shares, threshold 2, while the server runs.
    const shareDir = join(dir, 'shares-a');
    const toShares = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--shares', '3', '--threshold', '2', '--share-dir', shareDir, '--wait', '60'], '');
    assert.equal(toShares.code, 0, toShares.stdout + toShares.stderr);
    const shares = sharesIn(shareDir);
    assert.equal(shares.length, 3);
    for (const name of readdirSync(shareDir)) assert.equal(statSync(join(shareDir, name)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'root.key'), 'utf8')), { format: 'coffer-root-key', version: 1, kind: 'shares', threshold: 2, shares: 3 });
    await readBack(server.url, admin, written);
    await server.stop();

    const sealed = startSealed(dataDir);
    const url = await sealed.url();
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), { status: 'sealed' });
    await assert.rejects(clients(url, admin).kms.send(new ListKeysCommand({})), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, 'ServiceUnavailable');
      assert.equal(error.$metadata?.httpStatusCode, 503);
      assert.match(error.message, /sealed/);
      return true;
    });

    // A share of another key plus a right share: refused, nothing named, progress back to 0.
    const foreign = (await splitRootKey(Buffer.alloc(32, 9), 3, 2))[1]!;
    assert.match((await unseal(url, shares[0]!)).stdout, /1 of 2 entered; still sealed/);
    const wrong = await unseal(url, foreign);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the shares do not reconstruct the root key; enter 2 shares again/);
    assert.doesNotMatch(wrong.stderr, /share 1|share 2|first|second|coffer-share:/);
    assert.equal((await fetch(`${url}/health`)).status, 503);
    const malformed = await unseal(url, 'coffer-share:not-a-share');
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /not a share/);

    assert.match((await unseal(url, shares[2]!)).stdout, /1 of 2 entered/);
    const duplicate = await unseal(url, shares[2]!);
    assert.match(duplicate.stderr, /entered already/);
    assert.match((await unseal(url, shares[1]!)).stdout, /Unsealed/);
    await waitFor(() => /Coffer listening on/.test(sealed.stdout()), 10_000);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    await readBack(url, admin, written);
    for (const share of shares) assert.ok(!sealed.stderr().includes(share) && !sealed.stdout().includes(share), 'no share in the server output');

    // Reshare while serving: the current shares on stdin, 5 new ones with threshold 3.
    const reshared = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--shares', '5', '--threshold', '3', '--wait', '60'], `${shares[0]}\n${shares[1]}\n`);
    assert.equal(reshared.code, 0, reshared.stdout + reshared.stderr);
    const newShares = [...reshared.stdout.matchAll(/Share \d: (coffer-share:\S+)/g)].map((match) => match[1]!);
    assert.equal(newShares.length, 5);
    await readBack(url, admin, written);
    await sealed.stop();

    // The old shares no longer open it; 3 of the new ones do.
    const again = startSealed(dataDir);
    const againUrl = await again.url();
    assert.match((await unseal(againUrl, shares[0]!)).stdout, /1 of 3/);
    await unseal(againUrl, shares[1]!);
    const stale = await unseal(againUrl, shares[2]!);
    assert.match(stale.stderr, /do not reconstruct/);
    await unseal(againUrl, newShares[4]!);
    await unseal(againUrl, newShares[0]!);
    assert.match((await unseal(againUrl, newShares[2]!)).stdout, /Unsealed/);
    await readBack(againUrl, admin, written);
    await again.stop();
  });
});
