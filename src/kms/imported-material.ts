import { createPrivateKey, type KeyObject } from 'node:crypto';
import { KEY_BYTES } from '../crypto/index.js';
import { kmsError } from './errors.js';
import { keySpecInfo } from './key-specs.js';

/**
 * Which key specs take imported material (Origin EXTERNAL) and what material each accepts.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html ("Requirements for imported key
 * material"): symmetric encryption keys, HMAC keys, RSA key pairs, ECC key pairs (NIST P-256/384/521 and SECG
 * P-256K1), and SM2 (China Regions only, which Coffer does not make at all). The list names neither ML-DSA nor
 * ECC_NIST_EDWARDS25519, so Coffer refuses imports into them, with the UnsupportedOperationException CreateKey
 * answers for any origin a spec does not support (the safe reading of a list that leaves them out).
 */
const IMPORTABLE_KEY_SPECS = new Set<string>([
  'SYMMETRIC_DEFAULT',
  'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512',
  'RSA_2048', 'RSA_3072', 'RSA_4096',
  'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
]);

export function isImportableKeySpec(keySpec: string): boolean {
  return IMPORTABLE_KEY_SPECS.has(keySpec);
}

/**
 * HMAC key material: at least the digest's length and at most the hash's block size (longer keys would be hashed
 * first, RFC 2104): HMAC_224 28–64 bytes, HMAC_256 32–64, HMAC_384 48–128, HMAC_512 64–128, as AWS's
 * requirements table for imported HMAC material lists them.
 */
const HMAC_LENGTHS: Record<string, { min: number; max: number }> = {
  HMAC_224: { min: 28, max: 64 },
  HMAC_256: { min: 32, max: 64 },
  HMAC_384: { min: 48, max: 128 },
  HMAC_512: { min: 64, max: 128 },
};

/**
 * Checks unwrapped material against the key's spec and returns what the key's backing key holds: the bytes
 * themselves for symmetric and HMAC keys; for key pairs the private key parsed as PKCS#8 DER (what AWS asks for:
 * "the private key ... in PKCS #8 format, DER-encoded") and exported again by node:crypto, so two encodings of
 * one private key (with or without the optional public key, say) are the same material with the same
 * KeyMaterialId. Material of another kind, curve or size is IncorrectKeyMaterialException ("the key material is
 * not compatible with the KMS key", ImportKeyMaterial's errors); AWS does not document the messages.
 * The caller zeroes `plaintext`; the returned buffer is a new one for key pairs (the caller zeroes it too).
 */
export function canonicalMaterial(keySpec: string, plaintext: Buffer): Buffer {
  if (keySpec === 'SYMMETRIC_DEFAULT') {
    if (plaintext.length !== KEY_BYTES) throw incorrect('a SYMMETRIC_DEFAULT key takes 256-bit (32-byte) key material.');
    return plaintext;
  }
  const hmac = HMAC_LENGTHS[keySpec];
  if (hmac) {
    if (plaintext.length < hmac.min || plaintext.length > hmac.max) {
      throw incorrect(`a ${keySpec} key takes ${hmac.min} to ${hmac.max} bytes of key material.`);
    }
    return plaintext;
  }
  const generation = keySpecInfo(keySpec).generation;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' });
  } catch {
    throw incorrect(`a ${keySpec} key takes its private key as DER-encoded PKCS #8.`);
  }
  const details = privateKey.asymmetricKeyDetails ?? {};
  if (generation.kind === 'rsa') {
    if (privateKey.asymmetricKeyType !== 'rsa' || details.modulusLength !== generation.modulusLength) {
      throw incorrect(`a ${keySpec} key takes an RSA private key with a ${generation.modulusLength}-bit modulus.`);
    }
  } else if (generation.kind === 'ec') {
    if (privateKey.asymmetricKeyType !== 'ec' || details.namedCurve !== generation.namedCurve) {
      throw incorrect(`a ${keySpec} key takes an elliptic curve private key on ${generation.namedCurve}.`);
    }
  } else {
    throw incorrect(`${keySpec} keys do not take imported key material.`);
  }
  return privateKey.export({ format: 'der', type: 'pkcs8' });
}

function incorrect(why: string) {
  return kmsError('IncorrectKeyMaterialException', `The key material is invalid: ${why}`);
}
