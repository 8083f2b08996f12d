import { hash } from 'node:crypto';
import { remembered } from '../core/index.js';
import { decodeBlob } from '../crypto/index.js';
import type { KeyRecord } from '../store/index.js';

/**
 * Every Decrypt answers with one: remembered per backing key id (a public value) rather than hashed per call, for
 * up to 10,000 backing keys (one per key and rotation) before it starts over.
 */
const generatedKeyMaterialId = remembered((backingKeyId) => hash('sha256', `coffer key material id\0${backingKeyId}`, 'hex'), { limit: 10_000 });

/**
 * The KeyMaterialId AWS returns beside what a symmetric encryption key's material made (Decrypt, GenerateDataKey*,
 * ReEncrypt, DescribeKey's CurrentKeyMaterialId, ListKeyRotations): 64 hex characters. Imported material has its own
 * (an HMAC of the material, operations/import.ts), kept on the key; generated material's is a hash of its backing
 * key id, which every Region of a multi-Region key shares, so a member in each Region reports the same id.
 * Undefined for other key specs (AWS: present only for symmetric encryption keys) and for a key without material.
 */
export function keyMaterialIdOf(key: KeyRecord, backingKeyId: string): string | undefined {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT' || backingKeyId === '') return undefined;
  if (key.origin === 'EXTERNAL') return key.keyMaterialId;
  return generatedKeyMaterialId(backingKeyId);
}

/**
 * The KeyMaterialId of the material that sealed `ciphertext` under a symmetric key: the backing key id in the blob,
 * which the encryption budget may have moved past the key record's current one (encryption-budget.ts).
 */
export function keyMaterialIdOfCiphertext(key: KeyRecord, ciphertext: Buffer): string | undefined {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') return undefined;
  return keyMaterialIdOf(key, decodeBlob(ciphertext)?.backingKeyId ?? key.currentBackingKeyId);
}
