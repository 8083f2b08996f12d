import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { createKey } from '../../helpers/kms.js';
import { startTestServer, type TestServer } from '../../helpers/start-server.js';
import { assertAllRefused, bitFlips, reportTallies, splices, truncations, type Tally, type Variant } from '../../helpers/tamper.js';

/**
 * Tampered KMS ciphertext blobs through the real API: Decrypt (and ReEncrypt) of every single-bit flip, every
 * truncation and splices of two blobs' fields is refused with an AWS-shaped client error, never plaintext and
 * never a 5xx. COFFER_TAMPER_FULL=1 (npm run reliability:tamper) runs more and larger blobs.
 */
const FULL = process.env.COFFER_TAMPER_FULL === '1';
/** Blob fields' ends (crypto/ciphertext-blob.ts): version, key id, backing key id, IV, tag. */
const CUTS = [1, 17, 33, 45, 61];
const FIELDS = ['version', 'key id', 'backing key id', 'IV', 'tag'];
/** What AWS answers for a blob it cannot use: mostly InvalidCiphertextException; a blob naming no key it has: NotFoundException. */
const REFUSALS = new Set(['InvalidCiphertextException', 'NotFoundException', 'ValidationException']);
const context = { tenant: 'tamper' };

describe('tampered KMS ciphertext blobs are refused', () => {
  let server: TestServer;
  let kms: KMSClient;
  let keyId: string;
  const tallies: Record<string, Tally> = {};

  before(async () => {
    server = await startTestServer();
    kms = server.kms();
    keyId = (await createKey(kms)).KeyId!;
  });
  after(async () => {
    reportTallies('blobs', tallies);
    await server.cleanup();
  });

  const encrypt = async (plaintext: Buffer, id = keyId) => Buffer.from((await kms.send(new EncryptCommand({ KeyId: id, Plaintext: plaintext, EncryptionContext: context }))).CiphertextBlob!);
  const refused = (variants: Iterable<Variant>, attempt: (blob: Buffer) => Promise<unknown>) => assertAllRefused(variants, attempt, REFUSALS);
  const decrypt = (client: KMSClient) => (blob: Buffer) => client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));

  it('every single-bit flip of an Encrypt blob', async () => {
    const sizes = FULL ? [1, 16, 100, 4096] : [16];
    for (const size of sizes) {
      const blob = await encrypt(Buffer.alloc(size, 0x61));
      tallies[`bit flips, ${size}-byte plaintext`] = await refused(bitFlips(blob), decrypt(kms));
    }
    // The untouched blob still decrypts: the refusals are the tampering's doing.
    const blob = await encrypt(Buffer.from('intact'));
    assert.equal(Buffer.from((await decrypt(kms)(blob)).Plaintext!).toString(), 'intact');
  });

  it('every truncation, and a byte appended', async () => {
    const blob = await encrypt(Buffer.alloc(FULL ? 256 : 16, 0x62));
    tallies['truncations'] = await refused(truncations(blob), decrypt(kms));
  });

  it('splices of two blobs: same key, another key, before and after a rotation', async () => {
    const a = await encrypt(Buffer.from('first message, same length!!'));
    const b = await encrypt(Buffer.from('other message, same length!!'));
    const otherKey = (await createKey(kms)).KeyId!;
    const c = await encrypt(Buffer.from('first message, same length!!'), otherKey);
    await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    const d = await encrypt(Buffer.from('other message, same length!!'));
    const pairs = [
      [a, b],
      [b, a],
      [a, c],
      [c, a],
      [a, d],
      [d, a],
    ] as const;
    const variants = pairs.flatMap(([x, y]) => [...splices(x, y, CUTS, FIELDS)]);
    // The ciphertext of one blob with the IV and tag of another, whole fields swapped in the middle.
    variants.push({ label: 'IV of another blob', bytes: Buffer.concat([a.subarray(0, 33), b.subarray(33, 45), a.subarray(45)]) });
    variants.push({ label: 'tag of another blob', bytes: Buffer.concat([a.subarray(0, 45), b.subarray(45, 61), a.subarray(61)]) });
    tallies['splices'] = await refused(variants, decrypt(kms));
    // And the wrong encryption context, or none: the context is part of the AAD.
    await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob: a, EncryptionContext: { tenant: 'other' } })), { name: 'InvalidCiphertextException' });
    await assert.rejects(kms.send(new DecryptCommand({ CiphertextBlob: a })), { name: 'InvalidCiphertextException' });
  });

  it('ReEncrypt and a data key blob: bit flips refused the same way', async () => {
    const dataKey = Buffer.from((await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }))).CiphertextBlob!);
    const reEncrypt = (blob: Buffer) =>
      kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: context, DestinationKeyId: keyId, DestinationEncryptionContext: context }));
    const flips = [...bitFlips(dataKey)];
    const chosen = FULL ? flips : flips.filter((_, index) => index % 7 === 0);
    tallies['data key bit flips, ReEncrypt'] = await refused(chosen, reEncrypt);
    tallies['data key bit flips, Decrypt'] = await refused(chosen, decrypt(kms));
  });

  it('a multi-Region blob (format version 2): bit flips refused in the other Region too; a single-Region blob is unknown there', async () => {
    const primary = (await createKey(kms, { MultiRegion: true })).KeyId!;
    await kms.send(new ReplicateKeyCommand({ KeyId: primary, ReplicaRegion: 'eu-west-1' }));
    const west = server.kms({ region: 'eu-west-1' });
    const blob = await encrypt(Buffer.from('multi-Region message'), primary);
    assert.equal(blob[0], 2);
    assert.equal(Buffer.from((await decrypt(west)(blob)).Plaintext!).toString(), 'multi-Region message');
    const flips = [...bitFlips(blob)];
    tallies['multi-Region bit flips, other Region'] = await refused(FULL ? flips : flips.filter((_, index) => index % 5 === 0), decrypt(west));
    // A blob of a single-Region key names no key in another Region.
    await assert.rejects(decrypt(west)(await encrypt(Buffer.from('single-Region'))), { name: 'NotFoundException' });
  });
});
