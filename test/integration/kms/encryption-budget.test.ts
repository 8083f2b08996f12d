import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListKeyRotationsCommand,
  ReplicateKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createLogger } from '../../../src/core/index.js';
import { createKey } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';

/**
 * The encryption budget (kms/encryption-budget.ts), with a small threshold injected through the server's
 * configuration: a symmetric key's current backing key is replaced once it has sealed `threshold` messages, the
 * count is kept in the store in reserved blocks (a restart never starts it again from zero), every ciphertext made
 * before still decrypts, and a multi-Region key is replaced in every Region at once.
 */
const THRESHOLD = 40;
const BLOCK = 8;
const budget = { encryptionsPerBackingKey: THRESHOLD, reservationBlock: BLOCK };
const context = { purpose: 'encryption-budget' };

/** The backing key id a blob was sealed under (bytes 17..33 of the blob, crypto/ciphertext-blob.ts). */
function backingKeyOf(blob: Uint8Array): string {
  return Buffer.from(blob).subarray(17, 33).toString('hex');
}

function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function encryptMany(kms: KMSClient, keyId: string, count: number): Promise<Uint8Array[]> {
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < count; i += 1) {
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(`message ${i}`), EncryptionContext: context }));
    blobs.push(CiphertextBlob!);
  }
  return blobs;
}

async function assertAllDecrypt(kms: KMSClient, blobs: Uint8Array[]): Promise<void> {
  for (const [i, blob] of blobs.entries()) {
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
    assert.equal(Buffer.from(Plaintext!).toString(), `message ${i}`);
  }
}

function reservedCounts(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'coffer.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT backing_key_id, reserved_count FROM kms_encryption_reservations').all() as { backing_key_id: string; reserved_count: number }[];
    return new Map(rows.map((row) => [row.backing_key_id.replaceAll('-', ''), row.reserved_count]));
  } finally {
    db.close();
  }
}

describe('KMS encryption budget per backing key', () => {
  const servers: TestServer[] = [];
  after(async () => {
    for (const server of servers) await server.cleanup();
  });

  it('replaces the backing key after the threshold, lists it as an AUTOMATIC rotation, and every ciphertext still decrypts', async () => {
    const server = await startTestServer({ kmsEncryptionBudget: budget });
    servers.push(server);
    const kms = server.kms();
    const key = await createKey(kms);
    const firstMaterial = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;

    const blobs = await encryptMany(kms, key.KeyId!, 130);
    const perBackingKey = countBy(blobs.map(backingKeyOf));
    // Sequential encryptions, 8 counts reserved at a time: the 33rd reserves counts 32..39 and so reaches the
    // threshold, which replaces the backing key; it is sealed under the old one, the next request under the new.
    // So each backing key seals 33 (never more than the threshold of 40): 33 + 33 + 33 + 31 = 130.
    assert.deepEqual([...perBackingKey.values()], [33, 33, 33, 31]);

    const rotations = (await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations!;
    assert.equal(rotations.length, 3);
    assert.ok(rotations.every((rotation) => rotation.RotationType === 'AUTOMATIC'));
    const current = (await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;
    assert.notEqual(current, firstMaterial);
    assert.equal(rotations.at(-1)!.KeyMaterialId, current);

    await assertAllDecrypt(kms, blobs);
    // The store never holds fewer reservations than the encryptions made under a backing key.
    const reserved = reservedCounts(server.dataDir);
    for (const [backingKeyId, used] of perBackingKey) assert.ok(reserved.get(backingKeyId)! >= used, `${backingKeyId}: ${reserved.get(backingKeyId)} < ${used}`);
  });

  it('concurrent encryptions share the reserved blocks: no backing key seals more than the threshold', async () => {
    const server = await startTestServer({ kmsEncryptionBudget: budget });
    servers.push(server);
    const kms = server.kms();
    const key = await createKey(kms);
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => kms.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: { n: String(i) } }))),
    );
    const perBackingKey = countBy(results.map((result) => backingKeyOf(result.CiphertextBlob!)));
    assert.ok(perBackingKey.size >= 3, `only ${perBackingKey.size} backing keys for 120 data keys`);
    // Requests holding the old key record move on to the new backing key once the old one's counts run out.
    for (const used of perBackingKey.values()) assert.ok(used <= THRESHOLD, `${used} encryptions under one backing key`);
    // Each response's KeyMaterialId is that of the backing key in its blob, even when it moved past the key record's.
    const materialIds = new Map<string, Set<string>>();
    for (const result of results) {
      const ids = materialIds.get(backingKeyOf(result.CiphertextBlob!)) ?? new Set<string>();
      materialIds.set(backingKeyOf(result.CiphertextBlob!), ids.add(result.KeyMaterialId!));
    }
    assert.ok([...materialIds.values()].every((ids) => ids.size === 1));
    assert.equal(new Set([...materialIds.values()].flatMap((ids) => [...ids])).size, perBackingKey.size);
    for (const [i, result] of results.entries()) {
      const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: result.CiphertextBlob, EncryptionContext: { n: String(i) } }));
      assert.deepEqual(Buffer.from(Plaintext!), Buffer.from(result.Plaintext!));
    }
  });

  it('a restart continues the count from the store rather than from zero', async () => {
    const first = await startTestServer({ kmsEncryptionBudget: budget });
    const kms = first.kms();
    const key = await createKey(kms);
    const before = await encryptMany(kms, key.KeyId!, 20);
    await first.stop();

    const restarted = await startTestServer({ dataDir: first.dataDir, kmsEncryptionBudget: budget });
    servers.push(restarted);
    const again = restarted.kms();
    const afterRestart = await encryptMany(again, key.KeyId!, 40);
    const perBackingKey = countBy([...before, ...afterRestart].map(backingKeyOf));
    const original = backingKeyOf(before[0]!);
    // 20 before the restart used 24 reserved counts (3 blocks); the restarted server reserves 24..31 and then
    // 32..39, which reaches the threshold: the original backing key seals 20 + 8 + 1 = 29 messages in all. A count
    // kept only in memory would start again from zero and let it seal 20 + 33.
    assert.equal(perBackingKey.get(original), 29);
    assert.ok(perBackingKey.get(original)! <= THRESHOLD);
    assert.equal(perBackingKey.size, 2);
    const merged = [...before, ...afterRestart];
    for (const [i, blob] of merged.entries()) {
      const { Plaintext } = await again.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
      assert.equal(Buffer.from(Plaintext!).toString(), `message ${i < 20 ? i : i - 20}`);
    }
  });

  it('a multi-Region replica that reaches the threshold replaces the material of every member', async () => {
    const server = await startTestServer({ kmsEncryptionBudget: budget });
    servers.push(server);
    const east = server.kms();
    const west = server.kms({ region: 'eu-west-1' });
    const key = await createKey(east, { MultiRegion: true });
    await east.send(new ReplicateKeyCommand({ KeyId: key.KeyId, ReplicaRegion: 'eu-west-1' }));

    const westBlobs = await encryptMany(west, key.KeyId!, THRESHOLD + 5);
    assert.equal(countBy(westBlobs.map(backingKeyOf)).size, 2);
    const eastCurrent = (await east.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;
    const westCurrent = (await west.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!.CurrentKeyMaterialId;
    assert.equal(eastCurrent, westCurrent);
    // The two Regions count one material together: east's next encryptions use the new backing key too.
    const eastBlob = (await encryptMany(east, key.KeyId!, 1))[0]!;
    assert.equal(backingKeyOf(eastBlob), backingKeyOf(westBlobs.at(-1)!));
    // A ciphertext made in one Region decrypts in the other, before and after the replacement.
    await assertAllDecrypt(east, westBlobs);
  });
  it('imported material, which Coffer cannot replace, is not rotated: it keeps sealing past the threshold with one warning', async () => {
    const logLines: string[] = [];
    const server = await startTestServer({ kmsEncryptionBudget: budget, logger: createLogger({ level: 'info', write: (line) => logLines.push(line) }) });
    servers.push(server);
    const kms = server.kms();
    const key = await createKey(kms, { Origin: 'EXTERNAL' });
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      randomBytes(32),
    );
    await kms.send(new ImportKeyMaterialCommand({ KeyId: key.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));

    const blobs = await encryptMany(kms, key.KeyId!, THRESHOLD + 20);
    assert.equal(countBy(blobs.map(backingKeyOf)).size, 1);
    assert.deepEqual((await kms.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations, []);
    assert.equal(logLines.filter((line) => line.includes('near the AES-GCM encryption limit')).length, 1);
    await assertAllDecrypt(kms, blobs);
  });
});
