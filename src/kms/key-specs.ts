import { kmsError } from './errors.js';

/**
 * Every KMS key spec, in one table: its family, the key usages AWS allows for it, the algorithms each usage
 * lists (KeyMetadata, GetPublicKey) and accepts, and what node:crypto needs to make its material.
 * https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html (KeySpec, KeyUsage)
 * The order of each algorithm list is the order AWS returns it (the AWS CLI's create-key and describe-key examples).
 */

export type KeyFamily = 'symmetric' | 'rsa' | 'ecc' | 'ed25519' | 'ml-dsa' | 'hmac' | 'sm2';

/** The algorithms one key usage of a spec has; only the member that matches the usage is set. */
export type UsageAlgorithms = {
  readonly encryption?: readonly string[];
  readonly signing?: readonly string[];
  readonly keyAgreement?: readonly string[];
  readonly mac?: readonly string[];
};

/** How node:crypto makes the material: a key pair (generateKeyPair) or random bytes (AES, HMAC). */
export type KeyGeneration =
  | { readonly kind: 'random'; readonly bytes: number }
  | { readonly kind: 'rsa'; readonly modulusLength: number }
  | { readonly kind: 'ec'; readonly namedCurve: 'prime256v1' | 'secp384r1' | 'secp521r1' | 'secp256k1' }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'ml-dsa-44' | 'ml-dsa-65' | 'ml-dsa-87' }
  /** SM2 exists only in AWS's China Regions; Coffer cannot make it. */
  | { readonly kind: 'unsupported' };

export type KeySpecInfo = {
  readonly family: KeyFamily;
  readonly usages: Readonly<Partial<Record<KeyUsageName, UsageAlgorithms>>>;
  readonly generation: KeyGeneration;
};

export type KeyUsageName = 'ENCRYPT_DECRYPT' | 'SIGN_VERIFY' | 'GENERATE_VERIFY_MAC' | 'KEY_AGREEMENT';

const RSA_ENCRYPTION = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
const RSA_SIGNING = [
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
] as const;

const rsa = (modulusLength: number): KeySpecInfo => ({
  family: 'rsa',
  usages: { ENCRYPT_DECRYPT: { encryption: RSA_ENCRYPTION }, SIGN_VERIFY: { signing: RSA_SIGNING } },
  generation: { kind: 'rsa', modulusLength },
});

const nistCurve = (namedCurve: 'prime256v1' | 'secp384r1' | 'secp521r1', ecdsa: string): KeySpecInfo => ({
  family: 'ecc',
  usages: { SIGN_VERIFY: { signing: [ecdsa] }, KEY_AGREEMENT: { keyAgreement: ['ECDH'] } },
  generation: { kind: 'ec', namedCurve },
});

/** HMAC key lengths equal the digest's: 224, 256, 384 and 512 bits. https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html */
const hmac = (bits: number): KeySpecInfo => ({
  family: 'hmac',
  usages: { GENERATE_VERIFY_MAC: { mac: [`HMAC_SHA_${bits}`] } },
  generation: { kind: 'random', bytes: bits / 8 },
});

const mlDsa = (kind: 'ml-dsa-44' | 'ml-dsa-65' | 'ml-dsa-87'): KeySpecInfo => ({
  family: 'ml-dsa',
  usages: { SIGN_VERIFY: { signing: ['ML_DSA_SHAKE_256'] } },
  generation: { kind },
});

export const KEY_SPEC_TABLE = {
  SYMMETRIC_DEFAULT: {
    family: 'symmetric',
    usages: { ENCRYPT_DECRYPT: { encryption: ['SYMMETRIC_DEFAULT'] } },
    generation: { kind: 'random', bytes: 32 },
  },
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
  ECC_NIST_P256: nistCurve('prime256v1', 'ECDSA_SHA_256'),
  ECC_NIST_P384: nistCurve('secp384r1', 'ECDSA_SHA_384'),
  ECC_NIST_P521: nistCurve('secp521r1', 'ECDSA_SHA_512'),
  // secp256k1: signing and verification only.
  ECC_SECG_P256K1: { family: 'ecc', usages: { SIGN_VERIFY: { signing: ['ECDSA_SHA_256'] } }, generation: { kind: 'ec', namedCurve: 'secp256k1' } },
  // ed25519: signing and verification only (no key agreement).
  ECC_NIST_EDWARDS25519: {
    family: 'ed25519',
    usages: { SIGN_VERIFY: { signing: ['ED25519_SHA_512', 'ED25519_PH_SHA_512'] } },
    generation: { kind: 'ed25519' },
  },
  ML_DSA_44: mlDsa('ml-dsa-44'),
  ML_DSA_65: mlDsa('ml-dsa-65'),
  ML_DSA_87: mlDsa('ml-dsa-87'),
  HMAC_224: hmac(224),
  HMAC_256: hmac(256),
  HMAC_384: hmac(384),
  HMAC_512: hmac(512),
  SM2: {
    family: 'sm2',
    usages: {
      ENCRYPT_DECRYPT: { encryption: ['SM2PKE'] },
      SIGN_VERIFY: { signing: ['SM2DSA'] },
      KEY_AGREEMENT: { keyAgreement: ['ECDH'] },
    },
    generation: { kind: 'unsupported' },
  },
} as const satisfies Record<string, KeySpecInfo>;

export type KeySpecName = keyof typeof KEY_SPEC_TABLE;

/**
 * The deprecated CustomerMasterKeySpec enum has no ML-DSA or Edwards-curve member, and AWS leaves the field out
 * for those keys (the AWS CLI's create-key example for ML_DSA_65 has no CustomerMasterKeySpec).
 */
const CUSTOMER_MASTER_KEY_SPECS = new Set<string>([
  'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'SM2',
]);

export function customerMasterKeySpec(keySpec: string): string | undefined {
  return CUSTOMER_MASTER_KEY_SPECS.has(keySpec) ? keySpec : undefined;
}

/** The table's row for a stored key's spec (a key's spec is always one of the table's). */
export function keySpecInfo(keySpec: string): KeySpecInfo {
  const info = (KEY_SPEC_TABLE as Record<string, KeySpecInfo>)[keySpec];
  if (!info) throw new Error(`unknown key spec ${keySpec}`);
  return info;
}

export function keyFamily(keySpec: string): KeyFamily {
  return keySpecInfo(keySpec).family;
}

/** Whether the key holds a key pair (a public key exists): RSA, ECC, Ed25519, ML-DSA, SM2. */
export function isAsymmetric(keySpec: string): boolean {
  const family = keyFamily(keySpec);
  return family !== 'symmetric' && family !== 'hmac';
}

/** The algorithms a key of this spec and usage lists, as KeyMetadata and GetPublicKey show them. */
export function algorithmsOf(keySpec: string, keyUsage: string): UsageAlgorithms {
  return keySpecInfo(keySpec).usages[keyUsage as KeyUsageName] ?? {};
}

/**
 * Checks CreateKey's KeySpec and KeyUsage against the table. "KeyUsage ... is optional when you are creating a
 * symmetric encryption KMS key; otherwise, it is required" (CreateKey, KeyUsage): an asymmetric or HMAC spec
 * without one is refused. Returns the usage the key gets.
 */
export function assertKeySpecAndUsage(keySpec: KeySpecName, keyUsage: string | undefined): KeyUsageName {
  const info = KEY_SPEC_TABLE[keySpec] as KeySpecInfo;
  if (info.generation.kind === 'unsupported') {
    throw kmsError('UnsupportedOperationException', `KeySpec ${keySpec} is only available in AWS's China Regions and is not supported by Coffer.`);
  }
  if (keyUsage === undefined) {
    if (keySpec === 'SYMMETRIC_DEFAULT') return 'ENCRYPT_DECRYPT';
    throw kmsError('ValidationException', `KeyUsage is required for KeySpec ${keySpec}. Valid values for this KeySpec: ${Object.keys(info.usages).join(', ')}.`);
  }
  if (!(keyUsage in info.usages)) {
    throw kmsError('ValidationException', `KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  return keyUsage as KeyUsageName;
}
