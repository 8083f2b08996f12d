import { randomBytes } from 'node:crypto';
import { Sensitive, type RequestContext } from '../../core/index.js';
import { blobAad, decodeBlob, open, type CiphertextBlob, type EncryptionContext } from '../../crypto/index.js';
import type { KeyRecord } from '../../store/index.js';
import { keyMaterialIdOf, keyMaterialIdOfCiphertext } from '../key-material-id.js';
import { dryRunError, kmsError, recipientUnsupported } from '../errors.js';
import type { KeyAccess, KeyRequest } from '../key-access.js';
import type { KeyLookup } from '../key-lookup.js';
import type { KeyMaterial } from '../key-material.js';
import { assertUsable } from '../key-state.js';
import type { KmsInput } from '../schemas.js';
import type { SymmetricCiphertexts } from '../symmetric-ciphertext.js';
import { assertEncryptionAlgorithm, assertNoEncryptionContext, isAsymmetricEncryptionKey, type AsymmetricEncryption } from './asymmetric-encryption.js';

const SYMMETRIC_DEFAULT = 'SYMMETRIC_DEFAULT';

/** A ciphertext opened: its key, the plaintext (the caller zeroes it), the algorithm and the backing key that sealed it. */
type Opened = { key: KeyRecord; plaintext: Buffer; algorithm: string; backingKeyId: string };

/** Decrypt's answer: the key's ARN, the plaintext, the algorithm, the KeyMaterialId of the backing key that sealed it. */
type DecryptOutput = { KeyId: string; Plaintext: Sensitive<Buffer>; EncryptionAlgorithm: string; KeyMaterialId: string | undefined };
const DATA_KEY_BYTES = { AES_256: 32, AES_128: 16 } as const;

/**
 * Encrypt, Decrypt, ReEncrypt, data keys and random bytes. The AAD of every symmetric ciphertext is the blob
 * header (format, key id, backing key id) followed by the canonical encryption context, so Decrypt needs the exact
 * same context and a blob can't be re-pointed at another key. RSA encryption keys make and take raw RSAES-OAEP
 * ciphertexts instead (asymmetric-encryption.ts). Each operation is authorized on its key with the request's
 * encryption context (key-access.ts); a key of another account is used when named by its key ARN, or when the
 * ciphertext names it (Decrypt and ReEncrypt find a symmetric source key from the blob).
 */
export function createCryptographyOperations(
  lookup: KeyLookup,
  access: KeyAccess,
  material: KeyMaterial,
  ciphertexts: SymmetricCiphertexts,
  asymmetric: AsymmetricEncryption,
) {
  const encryptWith = ciphertexts.encryptUnder;

  /**
   * Opens a ciphertext. With a KeyId naming an RSA encryption key it is a raw RSAES-OAEP ciphertext (the
   * algorithm must be given); otherwise Coffer's blob, whose key it names: the KeyId, when given, must be that
   * key (IncorrectKeyException otherwise). Without a KeyId (every envelope a GetSecretValue opens, most Decrypts)
   * no async frame of its own: the key's lookup, then the rest at once (openWithKey).
   */
  function openCiphertext(
    ctx: RequestContext,
    operation: string,
    blob: Buffer,
    context: EncryptionContext | undefined,
    keyReference: string | undefined,
    algorithm: string | undefined,
    grantTokens: readonly string[] | undefined,
    contextMember?: string,
  ): Promise<Opened> {
    if (keyReference !== undefined) return openWithNamedKey(ctx, operation, blob, context, keyReference, algorithm, grantTokens, contextMember);
    // Without a KeyId the ciphertext must be Coffer's blob: an RSA ciphertext is InvalidCiphertextException, or, if
    // its first byte happens to be the blob format version, names a random key id (NotFoundException).
    const decoded = decodeBlob(blob);
    if (!decoded) return Promise.reject(invalidCiphertext());
    // A key named only by the ciphertext is authorized as that key.
    return lookup.findKeyById(ctx, decoded.keyId).then((key) => openWithKey(ctx, operation, key, decoded, { encryptionContext: context, grantTokens }, true));
  }

  async function openWithNamedKey(
    ctx: RequestContext,
    operation: string,
    blob: Buffer,
    context: EncryptionContext | undefined,
    keyReference: string,
    algorithm: string | undefined,
    grantTokens: readonly string[] | undefined,
    contextMember?: string,
  ): Promise<Opened> {
    const request = { encryptionContext: context, grantTokens };
    // A KeyId is authorized as named before it is compared with the ciphertext's, so neither answer tells a caller
    // without permission whether it names a key.
    const named = await access.keyFor(ctx, keyReference, operation, request);
    // Only an RSA encryption key reads the ciphertext as RSAES-OAEP; any other key named for a blob is compared
    // with the key the blob names (IncorrectKeyException).
    if (isAsymmetricEncryptionKey(named)) {
      assertUsable(named);
      const used = assertEncryptionAlgorithm(named, algorithm, operation === 'ReEncryptFrom' ? 'ReEncrypt' : operation);
      assertNoEncryptionContext(named, context, contextMember);
      return { key: named, plaintext: await asymmetric.decrypt(named, used, blob), algorithm: used, backingKeyId: named.currentBackingKeyId };
    }
    const decoded = decodeBlob(blob);
    if (!decoded) throw invalidCiphertext();
    return openWithKey(ctx, operation, named, decoded, request, false);
  }

  /**
   * The blob opened under `key` (the one it names, or the KeyId's, already authorized): authorized first when
   * `authorize` (a key found from the blob), then every check in AWS's order; at once unless a check or the
   * backing key's material must wait.
   */
  function openWithKey(ctx: RequestContext, operation: string, key: KeyRecord, decoded: CiphertextBlob, request: KeyRequest, authorize: boolean): Opened | Promise<Opened> {
    const authorizing = authorize ? access.authorizeKey(ctx, key, operation, request) : undefined;
    if (authorizing) return authorizing.then(() => openAuthorized(key, decoded, request.encryptionContext));
    return openAuthorized(key, decoded, request.encryptionContext);
  }

  function openAuthorized(key: KeyRecord, decoded: CiphertextBlob, context: EncryptionContext | undefined): Opened | Promise<Opened> {
    if (key.keyId !== decoded.keyId) {
      throw kmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    assertUsable(key);
    const opened = material.open(key, decoded.backingKeyId);
    if (opened instanceof Promise) return opened.then((keyMaterial) => openUnder(key, keyMaterial, decoded, context));
    return openUnder(key, opened, decoded, context);
  }

  function openUnder(key: KeyRecord, keyMaterial: Buffer | undefined, decoded: CiphertextBlob, context: EncryptionContext | undefined): Opened {
    if (!keyMaterial) throw invalidCiphertext();
    const plaintext = open(keyMaterial, decoded, blobAad(decoded.header, context));
    if (!plaintext) throw invalidCiphertext();
    return { key, plaintext, algorithm: SYMMETRIC_DEFAULT, backingKeyId: decoded.backingKeyId };
  }

  async function usableKey(ctx: RequestContext, operation: string, reference: string, algorithm: string | undefined, request: KeyRequest) {
    const key = await access.keyFor(ctx, reference, operation, request);
    assertUsable(key);
    const used = assertEncryptionAlgorithm(key, algorithm, operation === 'ReEncryptTo' ? 'ReEncrypt' : operation);
    return { key, algorithm: used };
  }

  /** Checks the request against the key and returns the function that encrypts (after the DryRun check). */
  async function encrypter(
    key: KeyRecord,
    algorithm: string,
    plaintextLength: number,
    context: EncryptionContext | undefined,
    contextMember?: string,
  ): Promise<(plaintext: Buffer) => Promise<Buffer>> {
    if (!isAsymmetricEncryptionKey(key)) return (plaintext) => encryptWith(key, plaintext, context);
    const encryptRsa = await asymmetric.prepareEncrypt(key, algorithm, plaintextLength, context, contextMember);
    return async (plaintext) => encryptRsa(plaintext);
  }

  async function encrypt(ctx: RequestContext, input: KmsInput<'Encrypt'>) {
    const { key, algorithm } = await usableKey(ctx, 'Encrypt', input.KeyId, input.EncryptionAlgorithm, {
      encryptionContext: input.EncryptionContext,
      grantTokens: input.GrantTokens,
    });
    const plaintext = input.Plaintext.reveal();
    const encryptIt = await encrypter(key, algorithm, plaintext.length, input.EncryptionContext);
    if (input.DryRun) throw dryRunError();
    const ciphertext = await encryptIt(plaintext);
    return { CiphertextBlob: ciphertext, KeyId: key.arn, EncryptionAlgorithm: algorithm };
  }

  /** No async frame of its own: the ciphertext opened (openCiphertext), then the answer (decryptAnswer). */
  function decrypt(ctx: RequestContext, input: KmsInput<'Decrypt'>): Promise<DecryptOutput> {
    if (input.Recipient) return Promise.reject(recipientUnsupported());
    return openCiphertext(ctx, 'Decrypt', input.CiphertextBlob, input.EncryptionContext, input.KeyId, input.EncryptionAlgorithm, input.GrantTokens).then(
      (opened) => decryptAnswer(opened, input),
    );
  }

  function decryptAnswer(opened: Opened, input: KmsInput<'Decrypt'>): DecryptOutput {
    try {
      if (opened.algorithm === SYMMETRIC_DEFAULT) assertEncryptionAlgorithm(opened.key, input.EncryptionAlgorithm, 'Decrypt');
      if (input.DryRun) throw dryRunError();
    } catch (error) {
      opened.plaintext.fill(0);
      throw error;
    }
    return {
      KeyId: opened.key.arn,
      Plaintext: new Sensitive(opened.plaintext),
      EncryptionAlgorithm: opened.algorithm,
      KeyMaterialId: keyMaterialIdOf(opened.key, opened.backingKeyId),
    };
  }

  async function reEncrypt(ctx: RequestContext, input: KmsInput<'ReEncrypt'>) {
    const source = await openCiphertext(
      ctx,
      'ReEncryptFrom',
      input.CiphertextBlob,
      input.SourceEncryptionContext,
      input.SourceKeyId,
      input.SourceEncryptionAlgorithm,
      input.GrantTokens,
      'SourceEncryptionContext',
    );
    try {
      if (source.algorithm === SYMMETRIC_DEFAULT) assertEncryptionAlgorithm(source.key, input.SourceEncryptionAlgorithm, 'ReEncrypt');
      const destination = await usableKey(ctx, 'ReEncryptTo', input.DestinationKeyId, input.DestinationEncryptionAlgorithm, {
        encryptionContext: input.DestinationEncryptionContext,
        grantTokens: input.GrantTokens,
      });
      const encryptIt = await encrypter(
        destination.key,
        destination.algorithm,
        source.plaintext.length,
        input.DestinationEncryptionContext,
        'DestinationEncryptionContext',
      );
      if (input.DryRun) throw dryRunError();
      const ciphertext = await encryptIt(source.plaintext);
      return {
        CiphertextBlob: ciphertext,
        SourceKeyId: source.key.arn,
        KeyId: destination.key.arn,
        SourceEncryptionAlgorithm: source.algorithm,
        DestinationEncryptionAlgorithm: destination.algorithm,
        SourceKeyMaterialId: keyMaterialIdOf(source.key, source.backingKeyId),
        DestinationKeyMaterialId: keyMaterialIdOfCiphertext(destination.key, ciphertext),
      };
    } finally {
      source.plaintext.fill(0);
    }
  }

  async function generateDataKey(ctx: RequestContext, input: KmsInput<'GenerateDataKey'>) {
    if (input.Recipient) throw recipientUnsupported();
    const dataKey = await newDataKey(ctx, 'GenerateDataKey', input);
    return {
      CiphertextBlob: dataKey.ciphertext,
      Plaintext: new Sensitive(dataKey.plaintext),
      KeyId: dataKey.key.arn,
      KeyMaterialId: keyMaterialIdOfCiphertext(dataKey.key, dataKey.ciphertext),
    };
  }

  async function generateDataKeyWithoutPlaintext(ctx: RequestContext, input: KmsInput<'GenerateDataKeyWithoutPlaintext'>) {
    const dataKey = await newDataKey(ctx, 'GenerateDataKeyWithoutPlaintext', input);
    dataKey.plaintext.fill(0);
    return { CiphertextBlob: dataKey.ciphertext, KeyId: dataKey.key.arn, KeyMaterialId: keyMaterialIdOfCiphertext(dataKey.key, dataKey.ciphertext) };
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
    const { key } = await usableKey(ctx, action, input.KeyId, undefined, { encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens });
    if (input.DryRun) throw dryRunError();
    const plaintext = randomBytes(input.KeySpec ? DATA_KEY_BYTES[input.KeySpec] : input.NumberOfBytes!);
    const ciphertext = await encryptWith(key, plaintext, input.EncryptionContext);
    return { key, plaintext, ciphertext };
  }

  async function generateRandom(_ctx: RequestContext, input: KmsInput<'GenerateRandom'>) {
    if (input.CustomKeyStoreId !== undefined) {
      throw kmsError('UnsupportedOperationException', 'Custom key stores are not supported by this Coffer server.');
    }
    if (input.Recipient) throw recipientUnsupported();
    if (input.NumberOfBytes === undefined) {
      throw kmsError('ValidationException', "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null");
    }
    return { Plaintext: new Sensitive(randomBytes(input.NumberOfBytes)) };
  }

  return { encrypt, decrypt, reEncrypt, generateDataKey, generateDataKeyWithoutPlaintext, generateRandom };
}

function invalidCiphertext() {
  return kmsError('InvalidCiphertextException', 'The ciphertext is invalid, or was encrypted under another key or encryption context.');
}

