import { hash } from 'node:crypto';
import { decodeBlob } from '../crypto/index.js';
import type { KeyRecord } from '../store/index.js';

/** Generated material's ids already computed, by backing key id (public values: a cache of a pure function). */
const GENERATED_IDS = new Map<string, string>();
/** Bound of GENERATED_IDS: a deployment has one backing key per key and rotation; past the bound it starts over. */
const MAX_GENERATED_IDS = 10_000;

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

/** Every Decrypt answers with one: remembered per backing key id rather than hashed per call. */
function generatedKeyMaterialId(backingKeyId: string): string {
  let id = GENERATED_IDS.get(backingKeyId);
  if (id === undefined) {
    id = hash('sha256', `coffer key material id\0${backingKeyId}`, 'hex');
    if (GENERATED_IDS.size >= MAX_GENERATED_IDS) GENERATED_IDS.clear();
    GENERATED_IDS.set(backingKeyId, id);
  }
  return id;
}

/**
 * The KeyMaterialId of the material that sealed `ciphertext` under a symmetric key: the backing key id in the blob,
 * which the encryption budget may have moved past the key record's current one (encryption-budget.ts).
 */
export function keyMaterialIdOfCiphertext(key: KeyRecord, ciphertext: Buffer): string | undefined {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') return undefined;
  return keyMaterialIdOf(key, decodeBlob(ciphertext)?.backingKeyId ?? key.currentBackingKeyId);
}
