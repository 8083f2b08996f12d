import { blobAad, encodeBlob, encodeBlobHeader, seal, type EncryptionContext } from '../crypto/index.js';
import type { KeyRecord } from '../store/index.js';
import { kmsError } from './errors.js';
import type { EncryptionBudget } from './encryption-budget.js';
import type { KeyMaterial } from './key-material.js';

/**
 * Sealing under a symmetric encryption key's current backing key: the one way Encrypt, ReEncrypt,
 * GenerateDataKey* and GenerateDataKeyPair* make a ciphertext blob, so Decrypt opens any of them alike.
 * The GCM AAD is the blob header (format, key id, backing key id) followed by the canonical encryption context.
 * Each encryption is counted against the backing key's budget first (encryption-budget.ts).
 */
export function createSymmetricCiphertexts(material: KeyMaterial, budget: EncryptionBudget) {
  async function encryptUnder(key: KeyRecord, plaintext: Buffer, context: EncryptionContext | undefined): Promise<Buffer> {
    // The budget names the backing key: the current one, or its successor when it just ran out.
    const backingKeyId = await budget.spend(key);
    const keyMaterial = await material.open(key, backingKeyId);
    if (!keyMaterial) throw kmsError('KMSInternalException', 'The current key material is missing.');
    const header = encodeBlobHeader(key.keyId, backingKeyId);
    const sealed = seal(keyMaterial, plaintext, blobAad(header, context));
    return encodeBlob(header, sealed);
  }

  return { encryptUnder };
}

export type SymmetricCiphertexts = ReturnType<typeof createSymmetricCiphertexts>;
