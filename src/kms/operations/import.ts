import { constants, createDecipheriv, createHmac, createPrivateKey, generateKeyPair, privateDecrypt, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { RequestContext } from '../../core/index.js';
import type { RequestContextValues } from '../../policy/index.js';
import { keyStoreId, type ExpirationModel, type KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { kmsError } from '../errors.js';
import { openImportToken, sealImportToken, type ImportTokenContents, type WrappingAlgorithm, type WrappingKeySpec } from '../import-token.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { canonicalMaterial } from '../imported-material.js';
import { invalidState } from '../key-state.js';
import { isReplica } from './multi-region.js';
import type { KmsInput } from '../schemas.js';

const DAY_MS = 86_400_000;
/** "Each public key and import token set is valid for 24 hours." (GetParametersForImport) */
const PARAMETERS_VALID_MS = DAY_MS;
/** ImportKeyMaterial ValidTo: "The maximum value is 365 days from the request date." */
const MAX_VALID_TO_MS = 365 * DAY_MS;
const MODULUS_BITS: Record<WrappingKeySpec, number> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };
/** RFC 5649's alternative initial value (AES key wrap with padding), as `openssl enc -id-aes256-wrap-pad -iv A65959A6` uses. */
const KWP_IV = Buffer.from('A65959A6', 'hex');
const MATERIAL_ID_LABEL = 'coffer key material id';

const generateRsaKeyPair = promisify(generateKeyPair);

/**
 * Imported key material (Origin EXTERNAL) for every spec imported-material.ts allows (symmetric, HMAC, RSA and
 * ECC keys; single- and multi-Region): GetParametersForImport hands out an RSA
 * wrapping public key and a self-contained import token (import-token.ts); ImportKeyMaterial unwraps the
 * material with the token's private key and makes it the key's backing key; DeleteImportedKeyMaterial and
 * expiry (ValidTo, key-lookup.ts and the maintenance sweep) take it away again, leaving the key PendingImport.
 * https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html
 *
 * The backing key id of imported material is derived from the material (HMAC-SHA256 keyed by the material over
 * a label and the key ARN): the same material imported again gets the same id, so ciphertexts made before its
 * deletion or expiry decrypt again. The full HMAC is the KeyMaterialId, kept on the key as a check value, so
 * different material is refused (IncorrectKeyMaterialException) without keeping the old material.
 * One material per key: importing NEW_KEY_MATERIAL into a key that had material (on-demand rotation of imported
 * material) is refused with UnsupportedOperationException.
 */
export function createImportOperations(deps: KmsDeps, access: KeyAccess, material: KeyMaterial) {
  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html */
  async function getParametersForImport(ctx: RequestContext, input: KmsInput<'GetParametersForImport'>) {
    const wrappingAlgorithm = supportedAlgorithm(input.WrappingAlgorithm);
    const wrappingKeySpec = supportedKeySpec(input.WrappingKeySpec);
    const key = await externalKey(ctx, input.KeyId, 'GetParametersForImport', {
      'kms:WrappingAlgorithm': input.WrappingAlgorithm,
      'kms:WrappingKeySpec': input.WrappingKeySpec,
    });
    // Key states: https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html (a key pending deletion
    // takes no new material).
    if (key.keyState !== 'PendingImport' && key.keyState !== 'Enabled' && key.keyState !== 'Disabled') throw invalidState(key);
    assertWrappingFits(key.keySpec, wrappingAlgorithm, wrappingKeySpec);
    const pair = await generateRsaKeyPair('rsa', {
      modulusLength: MODULUS_BITS[wrappingKeySpec],
      publicExponent: 0x10001,
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    });
    const expiresAt = new Date(ctx.clock.now().getTime() + PARAMETERS_VALID_MS);
    const privateKeyPkcs8 = pair.privateKey as unknown as Buffer;
    try {
      const token = sealImportToken(deps.keyring, { keyArn: key.arn, wrappingAlgorithm, wrappingKeySpec, expiresAt, privateKeyPkcs8 });
      return { KeyId: key.arn, ImportToken: token, PublicKey: pair.publicKey as unknown as Buffer, ParametersValidTo: expiresAt };
    } finally {
      privateKeyPkcs8.fill(0);
    }
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html */
  async function importKeyMaterial(ctx: RequestContext, input: KmsInput<'ImportKeyMaterial'>) {
    // kms:ExpirationModel and kms:ValidTo (epoch seconds, for the Numeric operators, as AWS's examples use it;
    // absent when the material does not expire). https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
    const key = await externalKey(ctx, input.KeyId, 'ImportKeyMaterial', {
      'kms:ExpirationModel': input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES',
      'kms:ValidTo': input.ValidTo === undefined ? undefined : String(Math.floor(input.ValidTo.getTime() / 1000)),
    });
    if (key.keyState !== 'PendingImport' && key.keyState !== 'Enabled') throw invalidState(key);
    const now = ctx.clock.now();
    const expiry = expiryOf(input, now);
    const importType = input.ImportType ?? (key.keyMaterialId === undefined ? 'NEW_KEY_MATERIAL' : 'EXISTING_KEY_MATERIAL');
    if (importType === 'NEW_KEY_MATERIAL' && input.KeyMaterialId !== undefined) {
      throw kmsError('ValidationException', 'You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL.');
    }
    if (importType === 'NEW_KEY_MATERIAL' && key.keyMaterialId !== undefined && isReplica(key)) {
      // ReplicateKey gave the replica its primary's KeyMaterialId: it takes that material only.
      throw kmsError(
        'ValidationException',
        `${key.arn} is a multi-Region replica key: import the key material of its primary key with ImportType EXISTING_KEY_MATERIAL.`,
      );
    }
    if (importType === 'NEW_KEY_MATERIAL' && key.keyMaterialId !== undefined) {
      throw kmsError(
        'UnsupportedOperationException',
        `${key.arn} already has imported key material; importing new key material (on-demand rotation of imported material) is not supported by this Coffer server yet.`,
      );
    }
    if (importType === 'EXISTING_KEY_MATERIAL' && key.keyMaterialId === undefined) {
      throw kmsError('IncorrectKeyMaterialException', `No key material was imported into ${key.arn} before: import it with ImportType NEW_KEY_MATERIAL.`);
    }

    const token = openImportToken(deps.keyring, key.arn, input.ImportToken);
    if (!token) throw kmsError('InvalidImportTokenException', 'The import token is invalid or was issued for another KMS key.');
    try {
      if (token.expiresAt <= now) {
        throw kmsError('ExpiredImportTokenException', 'The import token has expired. Use GetParametersForImport to get a new public key and import token.');
      }
      const unwrapped = unwrap(token, input.EncryptedKeyMaterial);
      if (!unwrapped) {
        throw kmsError('InvalidCiphertextException', `The encrypted key material could not be decrypted with the ${token.wrappingAlgorithm} wrapping key of this import token.`);
      }
      let plaintext = unwrapped;
      try {
        // The material as the key's spec holds it (a key pair's private key parsed and exported again).
        plaintext = canonicalMaterial(key.keySpec, unwrapped);
        const keyMaterialId = materialIdOf(plaintext, key);
        if (key.keyMaterialId !== undefined && key.keyMaterialId !== keyMaterialId) throw differentMaterial(key);
        if (input.KeyMaterialId !== undefined && input.KeyMaterialId !== keyMaterialId) {
          throw kmsError('IncorrectKeyMaterialException', 'The key material does not match the KeyMaterialId in the request.');
        }
        const backing = material.importedBackingKey(key.arn, keyStoreId(key), backingKeyIdOf(keyMaterialId), plaintext, now);
        const imported = await deps.store.importKeyMaterial(backing, { keyMaterialId, ...expiry }, ['PendingImport', 'Enabled']);
        if (!imported) {
          // Another call changed the key between our read and the write: answer from what it is now.
          const current = (await deps.store.getKeyById(key.keyId, key.region)) ?? key;
          if (current.keyMaterialId !== undefined && current.keyMaterialId !== keyMaterialId) throw differentMaterial(current);
          throw invalidState(current);
        }
        return { KeyId: key.arn, KeyMaterialId: keyMaterialId };
      } finally {
        plaintext.fill(0);
        unwrapped.fill(0);
      }
    } finally {
      token.privateKeyPkcs8.fill(0);
    }
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html */
  async function deleteImportedKeyMaterial(ctx: RequestContext, input: KmsInput<'DeleteImportedKeyMaterial'>) {
    const key = await externalKey(ctx, input.KeyId, 'DeleteImportedKeyMaterial');
    if (input.KeyMaterialId !== undefined && input.KeyMaterialId !== key.keyMaterialId) {
      throw kmsError('NotFoundException', `Key material ${input.KeyMaterialId} is not associated with ${key.arn}.`);
    }
    // A key pending deletion loses its material and stays pending deletion, as AWS documents; a key that has no
    // material (PendingImport) has nothing to delete.
    const deleted = await deps.store.deleteImportedKeyMaterial(keyStoreId(key), { whenStates: ['Enabled', 'Disabled', 'PendingDeletion'] });
    if (!deleted) throw invalidState((await deps.store.getKeyById(key.keyId, key.region)) ?? key);
    if (key.currentBackingKeyId !== '') material.forget(key.arn, key.currentBackingKeyId);
    return { KeyId: key.arn, KeyMaterialId: key.keyMaterialId };
  }

  /**
   * A key of the caller's account by id or ARN, authorized for the operation (with its own condition keys), with
   * Origin EXTERNAL.
   */
  async function externalKey(ctx: RequestContext, reference: string, operation: string, context?: RequestContextValues): Promise<KeyRecord> {
    const key = await access.customerKeyFor(ctx, reference, operation, { context });
    if (key.origin !== 'EXTERNAL') {
      throw kmsError('UnsupportedOperationException', `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
    }
    return key;
  }

  return { getParametersForImport, importKeyMaterial, deleteImportedKeyMaterial };
}

/**
 * RSAES_PKCS1_V1_5 is refused: "As of October 10, 2023, KMS does not support the RSAES_PKCS1_V1_5 wrapping
 * algorithm" (GetParametersForImport, WrappingAlgorithm). AWS does not document the error code; the operation's
 * UnsupportedOperationException ("a specified parameter is not supported") is the one that fits. SM2PKE and SM2
 * exist only in AWS's China Regions.
 */
function supportedAlgorithm(algorithm: KmsInput<'GetParametersForImport'>['WrappingAlgorithm']): WrappingAlgorithm {
  if (algorithm === 'RSAES_PKCS1_V1_5') {
    throw kmsError(
      'UnsupportedOperationException',
      'The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported. Use RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.',
    );
  }
  if (algorithm === 'SM2PKE') throw kmsError('UnsupportedOperationException', 'The SM2PKE wrapping algorithm is supported only in China Regions.');
  return algorithm;
}

function supportedKeySpec(spec: KmsInput<'GetParametersForImport'>['WrappingKeySpec']): WrappingKeySpec {
  if (spec === 'SM2') throw kmsError('UnsupportedOperationException', 'The SM2 wrapping key spec is supported only in China Regions.');
  return spec;
}

/**
 * ExpirationModel defaults to KEY_MATERIAL_EXPIRES, which requires ValidTo; KEY_MATERIAL_DOES_NOT_EXPIRE forbids
 * it. ValidTo must be in the future and at most 365 days away. (AWS documents the rules, not the messages.)
 */
function expiryOf(input: KmsInput<'ImportKeyMaterial'>, now: Date): { expirationModel: ExpirationModel; validTo?: Date } {
  const expirationModel = input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES';
  if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
    if (input.ValidTo !== undefined) {
      throw kmsError('ValidationException', 'ValidTo is not valid when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE.');
    }
    return { expirationModel };
  }
  if (input.ValidTo === undefined) {
    throw kmsError('ValidationException', 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES (the default).');
  }
  if (Number.isNaN(input.ValidTo.getTime()) || input.ValidTo <= now) {
    throw kmsError('ValidationException', 'ValidTo must be a future date and time.');
  }
  if (input.ValidTo.getTime() > now.getTime() + MAX_VALID_TO_MS) {
    throw kmsError('ValidationException', 'ValidTo must be no more than 365 days from the request date.');
  }
  return { expirationModel, validTo: input.ValidTo };
}

/**
 * The key material inside EncryptedKeyMaterial, or undefined when it does not unwrap with the token's private key.
 * RSAES_OAEP_*: RSA-OAEP (MGF1 with the same hash) of the material. RSA_AES_KEY_WRAP_*: RSA-OAEP of an ephemeral
 * AES-256 key, followed by the material wrapped under that key with AES key wrap with padding (RFC 5649), the
 * layout of PKCS #11's CKM_RSA_AES_KEY_WRAP that AWS's importing guide builds with openssl.
 */
function unwrap(token: ImportTokenContents, blob: Buffer): Buffer | undefined {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: token.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
  const oaepHash = token.wrappingAlgorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const rsaDecrypt = (data: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  try {
    if (token.wrappingAlgorithm === 'RSAES_OAEP_SHA_1' || token.wrappingAlgorithm === 'RSAES_OAEP_SHA_256') return rsaDecrypt(blob);
    const modulusBytes = MODULUS_BITS[token.wrappingKeySpec] / 8;
    if (blob.length <= modulusBytes) return undefined;
    const aesKey = rsaDecrypt(blob.subarray(0, modulusBytes));
    try {
      if (aesKey.length !== 32) return undefined;
      const decipher = createDecipheriv('id-aes256-wrap-pad', aesKey, KWP_IV);
      return Buffer.concat([decipher.update(blob.subarray(modulusBytes)), decipher.final()]);
    } finally {
      aesKey.fill(0);
    }
  } catch {
    return undefined;
  }
}

/**
 * The KeyMaterialId: 64 hex characters, HMAC-SHA256 keyed by the material, so it tells nothing of it. A
 * single-Region key's is bound to its ARN (as since the first imports: stored ids and ciphertexts stay valid); a
 * multi-Region key's to its `mrk-` key id, the same in every Region, so the primary and its replicas give the
 * same material the same KeyMaterialId and backing key id, and a ciphertext made in one Region decrypts in the
 * others. The same material in two unrelated keys still gets two ids.
 */
function materialIdOf(keyMaterial: Buffer, key: KeyRecord): string {
  const binding = key.primaryRegion === undefined ? key.arn : `multi-Region key ${key.keyId}`;
  return createHmac('sha256', keyMaterial).update(`${MATERIAL_ID_LABEL}\0${binding}`, 'utf8').digest('hex');
}

/**
 * The wrapping algorithms AWS lists per kind of material (GetParametersForImport, WrappingAlgorithm): "To import
 * an RSA private key, you must use an RSA_AES wrapping algorithm", and RSAES_OAEP_* with an RSA_2048 wrapping key
 * cannot carry ECC_NIST_P521 material. Both are refused here, before a wrapping key is made: a client could not
 * wrap that material with them anyway. AWS does not document the error; ValidationException (a parameter that is
 * not valid for this key) is the safe one.
 */
function assertWrappingFits(keySpec: string, algorithm: WrappingAlgorithm, wrappingKeySpec: WrappingKeySpec): void {
  if (!algorithm.startsWith('RSAES_OAEP')) return;
  if (keySpec.startsWith('RSA_')) {
    throw kmsError('ValidationException', `Key material of a ${keySpec} key (an RSA private key) must be wrapped with RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256, not ${algorithm}.`);
  }
  if (keySpec === 'ECC_NIST_P521' && wrappingKeySpec === 'RSA_2048') {
    throw kmsError('ValidationException', `ECC_NIST_P521 key material cannot be wrapped with ${algorithm} under an RSA_2048 wrapping key. Use a larger wrapping key or an RSA_AES_KEY_WRAP algorithm.`);
  }
}

/** The backing key id (UUID-shaped, as ciphertext blobs carry it) taken from the KeyMaterialId's first 16 bytes. */
function backingKeyIdOf(keyMaterialId: string): string {
  const hex = keyMaterialId.slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function differentMaterial(key: KeyRecord) {
  if (isReplica(key)) {
    return kmsError('IncorrectKeyMaterialException', `The key material is not the key material of the multi-Region primary key of ${key.arn}.`);
  }
  return kmsError('IncorrectKeyMaterialException', `The key material is not the key material that was imported into ${key.arn} before.`);
}
