import { randomBytes } from 'node:crypto';
import { Sensitive, type RequestContext } from '../../core/index.js';
import {
  canonicalEncryptionContext,
  decodeBlob,
  encodeBlob,
  encodeBlobHeader,
  open,
  seal,
  type EncryptionContext,
} from '../../crypto/index.js';
import type { KeyRecord } from '../../store/index.js';
import { kmsError } from '../errors.js';
import type { KeyAccess, KeyRequest } from '../key-access.js';
import type { KeyLookup } from '../key-lookup.js';
import type { KeyMaterial } from '../key-material.js';
import { assertUsable } from '../key-state.js';
import { algorithmsOf } from '../key-specs.js';
import type { KmsInput } from '../schemas.js';

const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';
const DATA_KEY_BYTES = { AES_256: 32, AES_128: 16 } as const;

/**
 * Encrypt, Decrypt, ReEncrypt, data keys and random bytes. The AAD of every ciphertext is the blob header
 * (format, key id, backing key id) followed by the canonical encryption context, so Decrypt needs the exact
 * same context and a blob can't be re-pointed at another key. Each operation is authorized on its key with the
 * request's encryption context (key-access.ts); a key of another account is used when named by its key ARN, or
 * when the ciphertext names it (Decrypt and ReEncrypt find their source key from the blob).
 */
export function createCryptographyOperations(lookup: KeyLookup, access: KeyAccess, material: KeyMaterial) {
  async function encryptWith(key: KeyRecord, plaintext: Buffer, context: EncryptionContext | undefined): Promise<Buffer> {
    const keyMaterial = await material.open(key, key.currentBackingKeyId);
    if (!keyMaterial) throw kmsError('KMSInternalException', 'The current key material is missing.');
    const header = encodeBlobHeader(key.keyId, key.currentBackingKeyId);
    const sealed = seal(keyMaterial, plaintext, Buffer.concat([header, canonicalEncryptionContext(context)]));
    return encodeBlob(header, sealed);
  }

  /** Finds the key a blob names, checks it against an optional KeyId, and opens the blob. */
  async function decryptBlob(
    ctx: RequestContext,
    operation: string,
    blob: Buffer,
    context: EncryptionContext | undefined,
    keyReference: string | undefined,
    grantTokens: readonly string[] | undefined,
  ) {
    const decoded = decodeBlob(blob);
    if (!decoded) throw invalidCiphertext();
    const request = { encryptionContext: context, grantTokens };
    // A KeyId is authorized as named before it is compared with the ciphertext's, so neither answer tells a caller
    // without permission whether it names a key. A key named only by the ciphertext is authorized as that key.
    const key = keyReference !== undefined ? await access.keyFor(ctx, keyReference, operation, request) : await lookup.findKeyById(ctx, decoded.keyId);
    if (keyReference === undefined) await access.authorizeKey(ctx, key, operation, request);
    if (key.keyId !== decoded.keyId) {
      throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    assertUsable(key);
    const keyMaterial = await material.open(key, decoded.backingKeyId);
    if (!keyMaterial) throw invalidCiphertext();
    const plaintext = open(keyMaterial, decoded, Buffer.concat([decoded.header, canonicalEncryptionContext(context)]));
    if (!plaintext) throw invalidCiphertext();
    return { key, plaintext };
  }

  async function usableKey(ctx: RequestContext, operation: string, reference: string, algorithm: string | undefined, request: KeyRequest): Promise<KeyRecord> {
    const key = await access.keyFor(ctx, reference, operation, request);
    assertUsable(key);
    assertSymmetricEncryption(key, algorithm, operation);
    return key;
  }

  async function encrypt(ctx: RequestContext, input: KmsInput<'Encrypt'>) {
    const key = await usableKey(ctx, 'Encrypt', input.KeyId, input.EncryptionAlgorithm, {
      encryptionContext: input.EncryptionContext,
      grantTokens: input.GrantTokens,
    });
    if (input.DryRun) throw dryRun();
    const ciphertext = await encryptWith(key, input.Plaintext.reveal(), input.EncryptionContext);
    return { CiphertextBlob: ciphertext, KeyId: key.arn, EncryptionAlgorithm: SYMMETRIC_DEFAULT };
  }

  async function decrypt(ctx: RequestContext, input: KmsInput<'Decrypt'>) {
    if (input.Recipient) throw kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported.');
    const { key, plaintext } = await decryptBlob(ctx, 'Decrypt', input.CiphertextBlob, input.EncryptionContext, input.KeyId, input.GrantTokens);
    assertSymmetricEncryption(key, input.EncryptionAlgorithm, 'Decrypt');
    if (input.DryRun) throw dryRun();
    return { KeyId: key.arn, Plaintext: new Sensitive(plaintext), EncryptionAlgorithm: SYMMETRIC_DEFAULT };
  }

  async function reEncrypt(ctx: RequestContext, input: KmsInput<'ReEncrypt'>) {
    const source = await decryptBlob(ctx, 'ReEncryptFrom', input.CiphertextBlob, input.SourceEncryptionContext, input.SourceKeyId, input.GrantTokens);
    assertSymmetricEncryption(source.key, input.SourceEncryptionAlgorithm, 'ReEncrypt');
    try {
      const destination = await usableKey(ctx, 'ReEncryptTo', input.DestinationKeyId, input.DestinationEncryptionAlgorithm, {
        encryptionContext: input.DestinationEncryptionContext,
        grantTokens: input.GrantTokens,
      });
      if (input.DryRun) throw dryRun();
      const ciphertext = await encryptWith(destination, source.plaintext, input.DestinationEncryptionContext);
      return {
        CiphertextBlob: ciphertext,
        SourceKeyId: source.key.arn,
        KeyId: destination.arn,
        SourceEncryptionAlgorithm: SYMMETRIC_DEFAULT,
        DestinationEncryptionAlgorithm: SYMMETRIC_DEFAULT,
      };
    } finally {
      source.plaintext.fill(0);
    }
  }

  async function generateDataKey(ctx: RequestContext, input: KmsInput<'GenerateDataKey'>) {
    if (input.Recipient) throw kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported.');
    const dataKey = await newDataKey(ctx, 'GenerateDataKey', input);
    return { CiphertextBlob: dataKey.ciphertext, Plaintext: new Sensitive(dataKey.plaintext), KeyId: dataKey.key.arn };
  }

  async function generateDataKeyWithoutPlaintext(ctx: RequestContext, input: KmsInput<'GenerateDataKeyWithoutPlaintext'>) {
    const dataKey = await newDataKey(ctx, 'GenerateDataKeyWithoutPlaintext', input);
    dataKey.plaintext.fill(0);
    return { CiphertextBlob: dataKey.ciphertext, KeyId: dataKey.key.arn };
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html: exactly one of KeySpec and NumberOfBytes. */
  async function newDataKey(
    ctx: RequestContext,
    action: string,
    input: {
      KeyId: string;
      KeySpec?: 'AES_256' | 'AES_128';
      NumberOfBytes?: number;
      EncryptionContext?: EncryptionContext;
      GrantTokens?: string[];
      DryRun?: boolean;
    },
  ) {
    if ((input.KeySpec === undefined) === (input.NumberOfBytes === undefined)) {
      throw kmsError('ValidationException', 'Please specify either number of bytes or key spec.');
    }
    const key = await usableKey(ctx, action, input.KeyId, undefined, { encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens });
    if (input.DryRun) throw dryRun();
    const plaintext = randomBytes(input.KeySpec ? DATA_KEY_BYTES[input.KeySpec] : input.NumberOfBytes!);
    const ciphertext = await encryptWith(key, plaintext, input.EncryptionContext);
    return { key, plaintext, ciphertext };
  }

  async function generateRandom(_ctx: RequestContext, input: KmsInput<'GenerateRandom'>) {
    if (input.CustomKeyStoreId !== undefined) {
      throw kmsError('UnsupportedOperationException', 'Custom key stores are not supported by this Coffer server.');
    }
    if (input.Recipient) throw kmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported.');
    if (input.NumberOfBytes === undefined) {
      throw kmsError('ValidationException', "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null");
    }
    return { Plaintext: new Sensitive(randomBytes(input.NumberOfBytes)) };
  }

  return { encrypt, decrypt, reEncrypt, generateDataKey, generateDataKeyWithoutPlaintext, generateRandom };
}

/**
 * These operations need a symmetric encryption key: a key of another usage (signing, MAC, key agreement) is
 * refused with InvalidKeyUsageException, as AWS does. https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
 */
export function assertSymmetricEncryption(key: KeyRecord, algorithm: string | undefined, operation: string): void {
  if (key.keyUsage !== 'ENCRYPT_DECRYPT') {
    throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  }
  if (key.keySpec !== SYMMETRIC_DEFAULT) {
    // An asymmetric encryption key (RSA): data keys need a symmetric key in AWS too. Encrypt, Decrypt and ReEncrypt
    // with RSAES_OAEP are not served yet: a clear refusal instead of a ciphertext of the wrong kind.
    const rsaOperation = operation === 'Encrypt' || operation === 'Decrypt' || operation.startsWith('ReEncrypt');
    if (rsaOperation) {
      // EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT, which an asymmetric key does not support.
      const requested = algorithm ?? SYMMETRIC_DEFAULT;
      if (algorithmsOf(key.keySpec, key.keyUsage).encryption?.includes(requested)) {
        throw kmsError('UnsupportedOperationException', `${operation} with ${key.keySpec} keys is not supported by this Coffer server yet.`);
      }
      throw kmsError('InvalidKeyUsageException', `The encryption algorithm ${requested} is not compatible with KeySpec ${key.keySpec}.`);
    }
    throw kmsError('InvalidKeyUsageException', `${key.arn} is an asymmetric key (KeySpec ${key.keySpec}); ${operation} requires a symmetric encryption key.`);
  }
  if (algorithm !== undefined && algorithm !== SYMMETRIC_DEFAULT) {
    throw kmsError('InvalidKeyUsageException', `The encryption algorithm ${algorithm} is not compatible with KeySpec ${key.keySpec}.`);
  }
}

function invalidCiphertext() {
  return kmsError('InvalidCiphertextException', 'The ciphertext is invalid, or was encrypted under another key or encryption context.');
}

function dryRun() {
  return kmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
}
