import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import type { EncryptionContext } from '../../crypto/index.js';
import type { KeyRecord } from '../../store/index.js';
import { kmsError } from '../errors.js';
import type { KeyMaterial } from '../key-material.js';
import { privateKeyObject } from '../key-pairs.js';
import { algorithmsOf, isAsymmetric } from '../key-specs.js';

/**
 * Encrypt, Decrypt and ReEncrypt with an RSA key whose KeyUsage is ENCRYPT_DECRYPT
 * (https://docs.aws.amazon.com/kms/latest/developerguide/asymmetric-key-specs.html#key-spec-rsa-encryption).
 * The ciphertext is the raw RSAES-OAEP ciphertext (RFC 8017, MGF1 with the same hash, empty label), exactly as
 * AWS returns it, with no Coffer header: a client that encrypts offline with the public key from GetPublicKey
 * gets the same kind of ciphertext, and Decrypt takes it. Such a ciphertext names no key and no algorithm, so
 * Decrypt and ReEncrypt need KeyId / SourceKeyId and the algorithm, as AWS's API reference says.
 */

/** The OAEP hash (and MGF1 hash) of each RSA encryption algorithm, and its output length in bytes. */
const OAEP = {
  RSAES_OAEP_SHA_1: { hash: 'sha1', bytes: 20 },
  RSAES_OAEP_SHA_256: { hash: 'sha256', bytes: 32 },
} as const;
type OaepAlgorithm = keyof typeof OAEP;

const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';

/** A key that encrypts with a public key (RSA today; SM2PKE exists only in AWS's China Regions). */
export function isAsymmetricEncryptionKey(key: KeyRecord): boolean {
  return key.keyUsage === 'ENCRYPT_DECRYPT' && isAsymmetric(key.keySpec);
}

/**
 * Checks a key's usage and the request's EncryptionAlgorithm (SYMMETRIC_DEFAULT when omitted, AWS's default)
 * against the algorithms its key spec supports, and returns the algorithm to use. AWS's wording:
 * "<key ARN> key usage is SIGN_VERIFY which is not valid for Encrypt." and
 * "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096." (both InvalidKeyUsageException).
 */
export function assertEncryptionAlgorithm(key: KeyRecord, algorithm: string | undefined, operation: string): string {
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') {
    throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  }
  const requested = algorithm ?? SYMMETRIC_DEFAULT;
  if (!(algorithmsOf(key.keySpec, key.keyUsage).encryption ?? []).includes(requested)) {
    throw kmsError('InvalidKeyUsageException', `Algorithm ${requested} is incompatible with key spec ${key.keySpec}.`);
  }
  return requested;
}

/**
 * "An encryption context is valid only for cryptographic operations with a symmetric encryption KMS key. The
 * standard asymmetric encryption algorithms ... do not support an encryption context" (Encrypt, EncryptionContext).
 * AWS documents the rule but not the error it answers with; Coffer refuses the request with ValidationException
 * rather than ignore a context the caller believes protects the data.
 */
export function assertNoEncryptionContext(key: KeyRecord, context: EncryptionContext | undefined, member = 'EncryptionContext'): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw kmsError('ValidationException', `${member} is not supported with asymmetric KMS key ${key.arn} (key spec ${key.keySpec}).`);
  }
}

export function createAsymmetricEncryption(material: KeyMaterial) {
  /** The RSA private key behind the key: its backing key material is the PKCS#8 DER private key. */
  async function privateKeyOf(key: KeyRecord): Promise<KeyObject> {
    const der = await material.open(key, key.currentBackingKeyId);
    if (!der) throw kmsError('KMSInternalException', 'The key material is missing.');
    try {
      return privateKeyObject(der);
    } catch {
      throw kmsError('KMSInternalException', 'The key material could not be read.');
    }
  }

  /**
   * The plaintext limit of RSAES-OAEP is k - 2·hLen - 2 bytes (RFC 8017 7.1.1), k the modulus length in bytes:
   * RSA_2048 214 (SHA-1) / 190 (SHA-256), RSA_3072 342 / 318, RSA_4096 470 / 446, the table in AWS's Encrypt
   * reference. AWS answers ValidationException "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt
   * data larger than 214 bytes."
   */
  function assertPlaintextFits(key: KeyRecord, privateKey: KeyObject, algorithm: OaepAlgorithm, length: number): void {
    const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    const limit = modulusBytes - 2 * OAEP[algorithm].bytes - 2;
    if (length > limit) {
      throw kmsError('ValidationException', `Algorithm ${algorithm} and key spec ${key.keySpec} cannot encrypt data larger than ${limit} bytes.`);
    }
  }

  /**
   * Validates a request to encrypt under an RSA key (context, size) and returns the function that encrypts, so
   * a DryRun stops after every check and before any cryptography.
   */
  async function prepareEncrypt(
    key: KeyRecord,
    algorithm: string,
    plaintextLength: number,
    context: EncryptionContext | undefined,
    contextMember?: string,
  ): Promise<(plaintext: Buffer) => Buffer> {
    assertNoEncryptionContext(key, context, contextMember);
    const oaep = oaepAlgorithm(algorithm);
    const privateKey = await privateKeyOf(key);
    assertPlaintextFits(key, privateKey, oaep, plaintextLength);
    // publicEncrypt takes the private key object and uses its public half.
    return (plaintext) => publicEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP[oaep].hash }, plaintext);
  }

  /** Opens a raw RSAES-OAEP ciphertext; any failure (wrong key, wrong algorithm, altered bytes) is InvalidCiphertextException. */
  async function decrypt(key: KeyRecord, algorithm: string, ciphertext: Buffer): Promise<Buffer> {
    const oaep = oaepAlgorithm(algorithm);
    const privateKey = await privateKeyOf(key);
    try {
      return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP[oaep].hash }, ciphertext);
    } catch {
      throw kmsError('InvalidCiphertextException', 'The ciphertext is invalid, or was encrypted under another key or with another algorithm.');
    }
  }

  return { prepareEncrypt, decrypt };
}

function oaepAlgorithm(algorithm: string): OaepAlgorithm {
  if (algorithm in OAEP) return algorithm as OaepAlgorithm;
  // assertEncryptionAlgorithm admits only the key spec's algorithms; SM2PKE keys are never created.
  throw kmsError('UnsupportedOperationException', `The encryption algorithm ${algorithm} is not supported by this Coffer server.`);
}

export type AsymmetricEncryption = ReturnType<typeof createAsymmetricEncryption>;
