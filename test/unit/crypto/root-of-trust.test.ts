import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  combineShares,
  decodeShare,
  Keyring,
  loadRootKey,
  makeRootKeyCheck,
  parseRootKeyFile,
  protectRootKey,
  replaceRootKeyFile,
  RootKeyError,
  rootKeyFileText,
  rootKeyMatches,
  SCRYPT_PARAMETERS,
  ShareFormatError,
  splitRootKey,
  unprotectRootKey,
  WrongPassphraseError,
} from '../../../src/crypto/index.js';

describe('passphrase-protected root key files (scrypt)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-root-passphrase-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('uses scrypt parameters of at least 64 MiB of memory', () => {
    assert.ok(128 * SCRYPT_PARAMETERS.N * SCRYPT_PARAMETERS.r >= 64 * 1024 * 1024);
  });

  it('opens with the passphrase it was protected with, and only with it', () => {
    const key = randomBytes(32);
    const file = protectRootKey(key, 'correct horse battery staple');
    assert.deepEqual(unprotectRootKey(file, 'correct horse battery staple'), key);
    assert.throws(() => unprotectRootKey(file, 'correct horse battery stapler'), WrongPassphraseError);
    assert.ok(!file.sealedKey.includes(key), 'the key is not in the file in clear');
  });

  it('round-trips through the file text, and refuses a file edited to weaker parameters', () => {
    const key = randomBytes(32);
    const text = rootKeyFileText({ kind: 'passphrase', protected: protectRootKey(key, 'pw') });
    assert.ok(!text.includes(key.toString('base64')));
    const parsed = parseRootKeyFile(text, 'f');
    assert.equal(parsed.kind, 'passphrase');
    assert.deepEqual(unprotectRootKey((parsed as { protected: Parameters<typeof unprotectRootKey>[0] }).protected, 'pw'), key);
    const weakened = JSON.parse(text) as { params: { N: number } };
    weakened.params.N = 1024;
    assert.throws(() => parseRootKeyFile(JSON.stringify(weakened), 'f'), /64 MiB/);
  });

  it('binds the sealed key to its salt: another salt does not open it', () => {
    const file = protectRootKey(randomBytes(32), 'pw');
    assert.throws(() => unprotectRootKey({ ...file, salt: randomBytes(16) }, 'pw'), WrongPassphraseError);
  });

  it('creates a protected key file (0600) on a new data dir when given a passphrase, and loads it back', () => {
    const path = join(dir, 'root.key');
    const created = loadRootKey({ kind: 'file', path, createIfMissing: true, passphrase: 'secret words' });
    assert.equal(created.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(parseRootKeyFile(readFileSync(path, 'utf8'), path).kind, 'passphrase');
    assert.deepEqual(loadRootKey({ kind: 'file', path, createIfMissing: false, passphrase: 'secret words' }).key, created.key);
    assert.throws(() => loadRootKey({ kind: 'file', path, createIfMissing: false, passphrase: 'wrong words' }), /passphrase does not open/);
    assert.throws(() => loadRootKey({ kind: 'file', path, createIfMissing: false }), /protected by a passphrase/);
  });

  it('refuses to load a shares marker as a key, naming coffer unseal', () => {
    const path = join(dir, 'shares.key');
    writeFileSync(path, rootKeyFileText({ kind: 'shares', shares: 5, threshold: 3 }));
    assert.throws(() => loadRootKey({ kind: 'file', path, createIfMissing: false }), (error: Error) => error instanceof RootKeyError && /coffer unseal/.test(error.message));
  });

  it('replaces a key file in one step, mode 0600', () => {
    const path = join(dir, 'replaced.key');
    writeFileSync(path, 'old\n', { mode: 0o600 });
    replaceRootKeyFile(path, 'new\n');
    assert.equal(readFileSync(path, 'utf8'), 'new\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

/** Every subset of `items` of size `size`. */
function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, size - 1).map((subset) => [first!, ...subset]), ...subsets(rest, size)];
}

describe('Shamir shares of the root key (GF(256))', () => {
  for (const [threshold, shares] of [[2, 2], [2, 3], [3, 5], [5, 5]] as const) {
    it(`${threshold} of ${shares}: every subset of ${threshold} rebuilds the key; every smaller subset does not`, async () => {
      const key = randomBytes(32);
      const check = makeRootKeyCheck(key);
      const printed = await splitRootKey(key, shares, threshold);
      assert.equal(printed.length, shares);
      assert.equal(new Set(printed).size, shares);
      const decoded = printed.map(decodeShare);
      for (const subset of subsets(decoded, threshold)) assert.deepEqual(await combineShares(subset), key);
      for (const subset of subsets(decoded, threshold - 1)) {
        if (subset.length < 2) continue; // one share is refused outright (below)
        const wrong = await combineShares(subset);
        assert.notDeepEqual(wrong, key);
        assert.equal(rootKeyMatches(wrong, check), false, 'fewer than K shares are caught by the check value');
      }
    });
  }

  it('more than K shares rebuild the key too', async () => {
    const key = randomBytes(32);
    const decoded = (await splitRootKey(key, 5, 3)).map(decodeShare);
    assert.deepEqual(await combineShares(decoded), key);
  });

  it('a changed share rebuilds a key the check value refuses', async () => {
    const key = randomBytes(32);
    const decoded = (await splitRootKey(key, 3, 2)).map(decodeShare);
    decoded[0]![5]! ^= 0x01;
    assert.equal(rootKeyMatches(await combineShares(decoded.slice(0, 2)), makeRootKeyCheck(key)), false);
  });

  it('refuses bad parameters and malformed shares without echoing them', async () => {
    await assert.rejects(splitRootKey(randomBytes(32), 3, 1), ShareFormatError);
    await assert.rejects(splitRootKey(randomBytes(32), 2, 3), ShareFormatError);
    await assert.rejects(splitRootKey(randomBytes(32), 256, 3), ShareFormatError);
    assert.throws(() => decodeShare('hello'), ShareFormatError);
    assert.throws(() => decodeShare('coffer-share:' + randomBytes(20).toString('base64')), /33 bytes/);
    const zeroX = Buffer.concat([randomBytes(32), Buffer.from([0])]);
    assert.throws(() => decodeShare('coffer-share:' + zeroX.toString('base64')), /x coordinate/);
    await assert.rejects(combineShares([decodeShare((await splitRootKey(randomBytes(32), 2, 2))[0]!)]), ShareFormatError);
  });

  it('a fixed vector: three shares of a 2-of-3 split of the bytes 0x00..0x1f combine, in any pair and order, to those bytes', async () => {
    // Test data made once by splitRootKey and kept here: a change in the encoding or the field arithmetic breaks it.
    const key = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
    const shares = [
      'coffer-share:EJwSJQorK5SbwV9aX1X8oWNtdSKlSVN9a8WkkSPbdwWD',
      'coffer-share:QENCmzy9sn1yBEVUW3brgcf6ldfmfhmkz0TUBeAooXc6',
      'coffer-share:GWQbF6OQgMXKJEKOYvFiUkwSmsAPJEcrROBeuWiXMWzb',
    ].map(decodeShare);
    for (const [a, b] of [[0, 1], [1, 0], [0, 2], [2, 1]] as const) assert.deepEqual(await combineShares([shares[a]!, shares[b]!]), key);
    assert.notDeepEqual(await combineShares([shares[0]!, Buffer.from(shares[1]!).fill(7, 0, 1)]), key);
  });
});

describe('Keyring during a rekey', () => {
  it('seals under the new key, opens under either, reseals old records, and opens nothing old once the old key is dropped', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const keyring = new Keyring(oldKey);
    const material = randomBytes(32);
    const sealedOld = keyring.seal(material, 'owner-a');
    keyring.adoptRootKey(newKey);
    assert.equal(keyring.currentKeyMatches(makeRootKeyCheck(newKey)), true);
    assert.equal(keyring.holdsPreviousRootKey, true);
    const sealedNew = keyring.seal(material, 'owner-b');
    assert.deepEqual(new Keyring(newKey).open(sealedNew, 'owner-b'), material, 'new records are sealed under the new key');
    assert.deepEqual(keyring.openUncached(sealedOld, 'owner-a'), material, 'old records still open');
    const resealed = keyring.reseal(sealedOld, 'owner-a');
    assert.equal(resealed.state, 'resealed');
    assert.equal(keyring.reseal(sealedNew, 'owner-b').state, 'current');
    assert.equal(keyring.reseal(randomBytes(60), 'owner-c').state, 'unreadable');
    const rewrapped = (resealed as { sealed: Buffer }).sealed;
    assert.deepEqual(new Keyring(newKey).open(rewrapped, 'owner-a'), material);
    assert.equal(new Keyring(oldKey).open(rewrapped, 'owner-a'), undefined, 'a re-wrapped record does not open under the old key');
    assert.equal(keyring.reseal(rewrapped, 'owner-b').state, 'unreadable', 'the owner still binds the record');
    keyring.dropPreviousRootKey();
    assert.equal(keyring.holdsPreviousRootKey, false);
    assert.equal(keyring.openUncached(sealedOld, 'owner-a'), undefined, 'after the rekey the old key opens nothing here');
    keyring.close();
  });
});
