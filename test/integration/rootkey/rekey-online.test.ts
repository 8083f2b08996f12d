import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand, DecryptCommand } from '@aws-sdk/client-kms';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { killChildServers, startChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, readKeyFile, runCofferWithInput, sealedRecordsOpening, waitFor, writeSample } from './rootkey-helpers.js';

describe('coffer rekey against a running server (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-rekey-online-'));
  after(async () => {
    await killChildServers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-wraps every sealed record while requests keep succeeding; afterwards the old key opens nothing and cannot start the server', async () => {
    const dataDir = join(dir, 'data');
    const server = await startChildServer({ dataDir });
    const admin = adminOf(dataDir);
    const { kms, secrets } = clients(server.url, admin);
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    const written = await writeSample(server.url, admin, KeyMetadata!.KeyId!, 4, 'before');
    const oldKey = readKeyFile(dataDir);
    assert.equal(sealedRecordsOpening(dataDir, oldKey).opening, sealedRecordsOpening(dataDir, oldKey).total);

    // Load during the rekey: reads of old data and writes of new data, all of which must succeed.
    let stop = false;
    let served = 0;
    const failures: string[] = [];
    const load = (async () => {
      for (let round = 0; !stop; round++) {
        try {
          await kms.send(new DecryptCommand({ CiphertextBlob: written.ciphertexts[round % written.ciphertexts.length]!.blob }));
          await secrets.send(new GetSecretValueCommand({ SecretId: written.secrets[round % written.secrets.length]!.name }));
          await secrets.send(new CreateSecretCommand({ Name: `rootkey/during/${round}`, SecretString: `during ${round}` }));
          await kms.send(new CreateKeyCommand({ Description: `during ${round}` }));
          served += 4;
        } catch (error) {
          failures.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
        }
      }
    })();
    const rekey = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--wait', '60'], '');
    stop = true;
    await load;
    assert.equal(rekey.code, 0, rekey.stdout + rekey.stderr);
    assert.match(rekey.stdout, /Rekey finished/);
    assert.deepEqual(failures, [], 'no request failed during the rekey');
    assert.ok(served > 0);

    const newKey = readKeyFile(dataDir);
    assert.notDeepEqual(newKey, oldKey, 'the key file holds a new key');
    assert.equal(statSync(join(dataDir, 'root.key')).mode & 0o777, 0o600);
    const underOld = sealedRecordsOpening(dataDir, oldKey);
    const underNew = sealedRecordsOpening(dataDir, newKey);
    assert.ok(underNew.total >= 6, `records to check: ${underNew.total}`);
    assert.equal(underOld.opening, 0, 'no sealed record opens under the old key');
    assert.equal(underNew.opening, underNew.total, 'every sealed record opens under the new key (those written during the rekey too)');
    await readBack(server.url, admin, written);
    assert.match(server.stderr(), /rekey finished/);
    assert.doesNotMatch(server.stderr() + rekey.stdout, new RegExp(oldKey.toString('base64').slice(0, 16).replace(/[+/]/g, '.')), 'no key in any output');

    // Restart with the old key: refused, clearly. With the new key: everything reads back.
    await server.stop();
    const oldKeyFile = join(dir, 'old.key');
    const refused = await runCofferWithInput(['server', '--port', '0', '--data-dir', dataDir, '--root-key-file', writeKey(oldKeyFile, oldKey)], '');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /does not match the data.*coffer rekey.*old one/);
    const restarted = await startChildServer({ dataDir });
    await readBack(restarted.url, admin, written);
    await restarted.stop();

    // The audit anchors signed before the rekey (old root key's anchor key) and after it both verify.
    const anchors = readFileSync(`${dataDir}.audit-anchors`, 'utf8').trim().split('\n');
    assert.ok(anchors.length >= 2, 'anchors from before and after the rekey');
    const verify = await runCofferWithInput(['audit', 'verify', '--data-dir', dataDir], '');
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, new RegExp(`${anchors.length} anchors valid`));
  });

  it('refuses a second rekey while one is in progress, and a rekey with a wrong key, changing nothing', async () => {
    const dataDir = join(dir, 'refusals');
    const server = await startChildServer({ dataDir });
    const before = readFileSync(join(dataDir, 'root.key'), 'utf8');
    const wrong = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--wait', '1'], '', { COFFER_ROOT_KEY: Buffer.alloc(32, 7).toString('base64') });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /does not match the data.*nothing was changed/);
    assert.equal(readFileSync(join(dataDir, 'root.key'), 'utf8'), before);
    await server.stop();
    // No server running: the rekey is recorded, not finished; a second one is refused; the next start finishes it.
    const recorded = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--wait', '1'], '');
    assert.equal(recorded.code, 3, recorded.stdout + recorded.stderr);
    assert.match(recorded.stdout, /next start .* finishes it/);
    const second = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--wait', '1'], '');
    assert.equal(second.code, 2);
    assert.match(second.stderr, /already in progress/);
    const oldKey = Buffer.from(before.trim(), 'base64');
    const restarted = await startChildServer({ dataDir });
    await waitFor(() => sealedRecordsOpening(dataDir, oldKey).opening === 0, 20_000);
    const newKey = readKeyFile(dataDir);
    assert.notDeepEqual(newKey, oldKey);
    assert.equal(sealedRecordsOpening(dataDir, newKey).opening, sealedRecordsOpening(dataDir, newKey).total);
    await restarted.stop();
  });
});

function writeKey(path: string, key: Buffer): string {
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600 });
  return path;
}
