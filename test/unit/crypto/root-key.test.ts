import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Keyring, loadRootKey, makeRootKeyCheck, RootKeyError, rootKeyMatches } from '../../../src/crypto/index.js';

describe('root key sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-root-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 256-bit key file with mode 0600 when allowed', () => {
    const path = join(dir, 'new.key');
    const loaded = loadRootKey({ kind: 'file', path, createIfMissing: true });
    assert.equal(loaded.created, true);
    assert.equal(loaded.key.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadRootKey({ kind: 'file', path, createIfMissing: false }).key, loaded.key);
  });

  it('refuses to invent a key when creation is not allowed', () => {
    assert.throws(() => loadRootKey({ kind: 'file', path: join(dir, 'absent.key'), createIfMissing: false }), RootKeyError);
  });

  it('takes a base64 key from the environment and rejects a wrong length', () => {
    const key = randomBytes(32);
    assert.deepEqual(loadRootKey({ kind: 'env', base64: key.toString('base64') }).key, key);
    assert.throws(() => loadRootKey({ kind: 'env', base64: randomBytes(16).toString('base64') }), /exactly 32 bytes/);
    assert.throws(() => loadRootKey({ kind: 'env', base64: 'not base64!' }), RootKeyError);
  });

  it('rejects a key file holding something else', () => {
    const path = join(dir, 'bad.key');
    writeFileSync(path, 'hello\n');
    assert.throws(() => loadRootKey({ kind: 'file', path, createIfMissing: false }), RootKeyError);
    assert.equal(readFileSync(path, 'utf8'), 'hello\n');
  });

  it('tells the right root key from a wrong one by the stored check', () => {
    const key = randomBytes(32);
    const check = makeRootKeyCheck(key);
    assert.equal(rootKeyMatches(key, check), true);
    assert.equal(rootKeyMatches(randomBytes(32), check), false);
  });
});

describe('Keyring', () => {
  it('opens material only for the owner it was sealed for', () => {
    const keyring = new Keyring(randomBytes(32));
    const material = randomBytes(32);
    const sealed = keyring.seal(material, 'arn:aws:kms:us-east-1:000000000000:key/a#1');
    assert.deepEqual(keyring.open(sealed, 'arn:aws:kms:us-east-1:000000000000:key/a#1'), material);
    assert.equal(keyring.open(sealed, 'arn:aws:kms:us-east-1:000000000000:key/b#1'), undefined);
    keyring.close();
  });

  it('does not open material sealed under another root key', () => {
    const sealed = new Keyring(randomBytes(32)).seal(randomBytes(32), 'owner');
    assert.equal(new Keyring(randomBytes(32)).open(sealed, 'owner'), undefined);
  });

  it('zeroes cached material and refuses work after close', () => {
    const keyring = new Keyring(randomBytes(32));
    const sealed = keyring.seal(randomBytes(32), 'owner');
    const opened = keyring.open(sealed, 'owner')!;
    keyring.close();
    assert.ok(opened.every((byte) => byte === 0));
    assert.throws(() => keyring.open(sealed, 'owner'), /closed/);
  });
});
