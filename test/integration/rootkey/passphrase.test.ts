import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { parseRootKeyFile, unprotectRootKey } from '../../../src/crypto/index.js';
import { killChildServers, startChildServer } from '../../helpers/child-server.js';
import { adminOf, clients, readBack, runCofferWithInput, sealedRecordsOpening, writeSample } from './rootkey-helpers.js';

const PASSPHRASE = 'test passphrase for the rootkey suite';

function keyUnder(dataDir: string, passphrase: string): Buffer {
  const file = parseRootKeyFile(readFileSync(join(dataDir, 'root.key'), 'utf8'), 'root.key');
  assert.equal(file.kind, 'passphrase');
  return unprotectRootKey((file as Extract<typeof file, { kind: 'passphrase' }>).protected, passphrase);
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('a passphrase-protected root key (scrypt)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-passphrase-'));
  after(async () => {
    await killChildServers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is created protected, refuses a wrong or missing passphrase before anything changes, and survives a rekey', async () => {
    const dataDir = join(dir, 'data');
    const server = await startChildServer({ dataDir, env: { COFFER_ROOT_PASSPHRASE: PASSPHRASE } });
    const text = readFileSync(join(dataDir, 'root.key'), 'utf8');
    assert.match(text, /"kind":"passphrase".*"kdf":"scrypt"/);
    assert.equal(statSync(join(dataDir, 'root.key')).mode & 0o777, 0o600);
    const admin = adminOf(dataDir);
    const { KeyMetadata } = await clients(server.url, admin).kms.send(new CreateKeyCommand({}));
    const written = await writeSample(server.url, admin, KeyMetadata!.KeyId!, 2, 'passphrase');
    const firstKey = keyUnder(dataDir, PASSPHRASE);
    await server.stop();

    const before = { key: digest(join(dataDir, 'root.key')), db: digest(join(dataDir, 'coffer.db')) };
    const wrong = await runCofferWithInput(['server', '--port', '0', '--data-dir', dataDir], '', { COFFER_ROOT_PASSPHRASE: 'not the passphrase' });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /passphrase does not open .*root\.key; nothing was changed/);
    const missing = await runCofferWithInput(['server', '--port', '0', '--data-dir', dataDir], '');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /protected by a passphrase/);
    assert.deepEqual({ key: digest(join(dataDir, 'root.key')), db: digest(join(dataDir, 'coffer.db')) }, before, 'nothing changed');

    // From a file (first line), then a rekey that keeps the same passphrase on the new key.
    const passphraseFile = join(dir, 'passphrase');
    writeFileSync(passphraseFile, PASSPHRASE + '\n', { mode: 0o600 });
    const restarted = await startChildServer({ dataDir, args: ['--root-passphrase-file', passphraseFile] });
    await readBack(restarted.url, admin, written);
    const rekey = await runCofferWithInput(['rekey', '--data-dir', dataDir, '--root-passphrase-file', passphraseFile, '--wait', '60'], '');
    assert.equal(rekey.code, 0, rekey.stdout + rekey.stderr);
    const secondKey = keyUnder(dataDir, PASSPHRASE);
    assert.notDeepEqual(secondKey, firstKey);
    assert.equal(sealedRecordsOpening(dataDir, firstKey).opening, 0);
    assert.equal(sealedRecordsOpening(dataDir, secondKey).opening, sealedRecordsOpening(dataDir, secondKey).total);
    await restarted.stop();
    const third = await startChildServer({ dataDir, env: { COFFER_ROOT_PASSPHRASE: PASSPHRASE } });
    await readBack(third.url, admin, written);
    await third.stop();
  });
});
