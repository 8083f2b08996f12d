import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/index.js';
import { IV_BYTES, Keyring } from '../../src/crypto/index.js';
import { createEncryptionBudget } from '../../src/kms/encryption-budget.js';
import { createKeyMaterial } from '../../src/kms/key-material.js';
import { createSymmetricCiphertexts } from '../../src/kms/symmetric-ciphertext.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { newKey } from '../store/sample-records.js';

/** Where the IV sits in a ciphertext blob (crypto/ciphertext-blob.ts: version, key id, backing key id, then IV). */
const IV_OFFSET = 33;

/** `distinctBackingKeys` counts the backing keys of every millionth blob (and the first): 1 means one key sealed them. */
export type IvCensus = { encryptions: number; distinctBackingKeys: number; prefixCollisions: number; collisions: number; seconds: number };

/**
 * Encrypts `count` messages under one KMS key through the code KMS itself seals with (encryptUnder, with the real
 * key material sealed under a root key in a real SQLite store, and the encryption budget counting), keeps the IV
 * of every blob (12 bytes each, in one Buffer) and counts the IVs that repeat. The budget's threshold is set to
 * the GCM bound so that one backing key seals them all, as the question is about one key.
 */
export async function ivCensus(count: number, onProgress?: (done: number) => void): Promise<IvCensus> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-iv-census-'));
  const store = new SqliteStore(join(dir, 'coffer.db'));
  store.migrate();
  const keyring = new Keyring(randomBytes(32));
  const started = process.hrtime.bigint();
  try {
    const material = createKeyMaterial({ store, keyring, logger: silentLogger });
    const { key } = newKey('000000000000', 'us-east-1');
    const backing = material.newBackingKey(key.arn, key.keyId, key.creationDate, randomBytes(32));
    await store.createKey({ ...key, currentBackingKeyId: backing.backingKeyId }, backing, []);
    const record = (await store.getKey(key.accountId, key.region, key.keyId))!;
    const budget = createEncryptionBudget({ store, logger: silentLogger }, material, { encryptionsPerBackingKey: 2 ** 32 });
    const { encryptUnder } = createSymmetricCiphertexts(material, budget);

    const ivs = Buffer.allocUnsafe(count * IV_BYTES);
    const backingKeys = new Set<string>();
    const plaintext = Buffer.from('iv census');
    for (let i = 0; i < count; i += 1) {
      const blob = await encryptUnder(record, plaintext, undefined);
      blob.copy(ivs, i * IV_BYTES, IV_OFFSET, IV_OFFSET + IV_BYTES);
      if (i % 1_000_000 === 0) {
        backingKeys.add(blob.subarray(17, 33).toString('hex'));
        onProgress?.(i);
      }
    }
    const { prefixCollisions, collisions } = countRepeatedIvs(ivs);
    return { encryptions: count, distinctBackingKeys: backingKeys.size, prefixCollisions, collisions, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    keyring.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How many 12-byte IVs in `ivs` repeat one before them. Sorts their first 8 bytes as 64-bit integers (8 bytes per
 * IV, sorted natively), and compares the whole IV only where a prefix repeats: two equal IVs have equal prefixes.
 */
export function countRepeatedIvs(ivs: Buffer): { prefixCollisions: number; collisions: number } {
  const count = ivs.length / IV_BYTES;
  const prefixes = new BigUint64Array(count);
  for (let i = 0; i < count; i += 1) prefixes[i] = ivs.readBigUInt64BE(i * IV_BYTES);
  prefixes.sort();
  const repeated = new Set<bigint>();
  for (let i = 1; i < count; i += 1) if (prefixes[i] === prefixes[i - 1]) repeated.add(prefixes[i]!);
  if (repeated.size === 0) return { prefixCollisions: 0, collisions: 0 };
  // Rare (about count^2 / 2^65): the whole IVs of the repeated prefixes decide.
  const seen = new Set<string>();
  let prefixCollisions = 0;
  let collisions = 0;
  const prefixSeen = new Set<bigint>();
  for (let i = 0; i < count; i += 1) {
    const prefix = ivs.readBigUInt64BE(i * IV_BYTES);
    if (!repeated.has(prefix)) continue;
    if (prefixSeen.has(prefix)) prefixCollisions += 1;
    prefixSeen.add(prefix);
    const whole = ivs.subarray(i * IV_BYTES, (i + 1) * IV_BYTES).toString('hex');
    if (seen.has(whole)) collisions += 1;
    seen.add(whole);
  }
  return { prefixCollisions, collisions };
}
