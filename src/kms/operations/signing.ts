import { constants, createPublicKey, privateEncrypt, publicDecrypt, sign as signWith, timingSafeEqual, verify as verifyWith, type KeyObject } from 'node:crypto';
import type { RequestContext } from '../../core/index.js';
import { loadDigestSigner, type DigestSignatureParams } from '../../crypto/index.js';
import type { KeyRecord } from '../../store/index.js';
import type { KmsDeps } from '../deps.js';
import { dryRunError, kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { privateKeyObject, publicKeyFromPrivate } from '../key-pairs.js';
import { algorithmsOf, customerMasterKeySpec, isAsymmetric } from '../key-specs.js';
import { assertUsable } from '../key-state.js';
import type { KmsInput } from '../schemas.js';
import { SIGNING_ALGORITHMS, type MESSAGE_TYPES } from '../schemas.js';

type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
type MessageType = (typeof MESSAGE_TYPES)[number];
type Hash = 'sha256' | 'sha384' | 'sha512';

/** How each signing algorithm is computed with node:crypto. */
type Scheme =
  | { kind: 'rsa-pkcs1' | 'rsa-pss' | 'ecdsa'; hash: Hash }
  | { kind: 'ed25519' | 'ed25519ph' | 'ml-dsa' | 'sm2' };

const SCHEMES: Record<SigningAlgorithm, Scheme> = {
  RSASSA_PSS_SHA_256: { kind: 'rsa-pss', hash: 'sha256' },
  RSASSA_PSS_SHA_384: { kind: 'rsa-pss', hash: 'sha384' },
  RSASSA_PSS_SHA_512: { kind: 'rsa-pss', hash: 'sha512' },
  RSASSA_PKCS1_V1_5_SHA_256: { kind: 'rsa-pkcs1', hash: 'sha256' },
  RSASSA_PKCS1_V1_5_SHA_384: { kind: 'rsa-pkcs1', hash: 'sha384' },
  RSASSA_PKCS1_V1_5_SHA_512: { kind: 'rsa-pkcs1', hash: 'sha512' },
  ECDSA_SHA_256: { kind: 'ecdsa', hash: 'sha256' },
  ECDSA_SHA_384: { kind: 'ecdsa', hash: 'sha384' },
  ECDSA_SHA_512: { kind: 'ecdsa', hash: 'sha512' },
  SM2DSA: { kind: 'sm2' },
  ML_DSA_SHAKE_256: { kind: 'ml-dsa' },
  ED25519_SHA_512: { kind: 'ed25519' },
  ED25519_PH_SHA_512: { kind: 'ed25519ph' },
};

const DIGEST_BYTES: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * The DER DigestInfo prefix of each hash (RFC 8017, section 9.2, note 1): an RSASSA-PKCS1-v1_5 signature is the
 * private-key operation, with PKCS #1 type 1 padding (OpenSSL's, through privateEncrypt), over prefix || digest.
 */
const DIGEST_INFO_PREFIX: Record<Hash, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** ML-DSA's external μ is 64 bytes (FIPS 204, section 6.2). */
const MU_BYTES = 64;

/**
 * GetPublicKey, Sign and Verify with the private key of an asymmetric SIGN_VERIFY key (key-pairs.ts).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html
 *
 * node:crypto signs what it can: every RAW message, and DIGEST with RSASSA_PKCS1_V1_5 (privateEncrypt/publicDecrypt
 * over DigestInfo || digest). node's sign and verify always hash their input and node has no Ed25519ph instance
 * and no ML-DSA external-μ parameter, so a precomputed digest (MessageType DIGEST) with RSASSA-PSS and ECDSA,
 * ED25519_PH_SHA_512 and EXTERNAL_MU go to the kms-digest addon (crypto/digest-signing.ts), which calls the same
 * OpenSSL directly. If the addon cannot be loaded those requests are refused with UnsupportedOperationException
 * (logged once, when the operations are made); the request is validated as AWS does first either way.
 */
export function createSigningOperations(deps: Pick<KmsDeps, 'logger' | 'kmsDigestAddon'>, access: KeyAccess, material: KeyMaterial) {
  const digestSigning = loadDigestSigner(deps.kmsDigestAddon);
  if (!digestSigning.signer) {
    deps.logger.warn('kms: signing precomputed digests is unavailable (DIGEST with RSASSA-PSS and ECDSA, ED25519_PH_SHA_512, EXTERNAL_MU are refused)', {
      reason: digestSigning.reason,
    });
  }
  const digestSigner = digestSigning.signer;

  async function privateKeyOf(key: KeyRecord): Promise<KeyObject> {
    return privateKeyObject(await privateKeyDerOf(key));
  }

  async function getPublicKey(ctx: RequestContext, input: KmsInput<'GetPublicKey'>) {
    const key = await access.keyFor(ctx, input.KeyId, 'GetPublicKey', { grantTokens: input.GrantTokens });
    if (!isAsymmetric(key.keySpec)) {
      throw kmsError('UnsupportedOperationException', `${key.arn} is not an asymmetric KMS key: GetPublicKey supports only asymmetric KMS keys.`);
    }
    assertUsable(key);
    const der = await material.open(key, key.currentBackingKeyId);
    if (!der) throw kmsError('KMSInternalException', 'The key material is missing.');
    const algorithms = algorithmsOf(key.keySpec, key.keyUsage);
    return {
      KeyId: key.arn,
      PublicKey: publicKeyFromPrivate(der),
      CustomerMasterKeySpec: customerMasterKeySpec(key.keySpec),
      KeySpec: key.keySpec,
      KeyUsage: key.keyUsage,
      EncryptionAlgorithms: algorithms.encryption,
      SigningAlgorithms: algorithms.signing,
      KeyAgreementAlgorithms: algorithms.keyAgreement,
    };
  }

  /** The key, authorized and checked, and what the message is (a whole message or a digest of the algorithm's hash). */
  async function signingKey(
    ctx: RequestContext,
    operation: 'Sign' | 'Verify',
    input: { KeyId: string; GrantTokens?: string[]; SigningAlgorithm: SigningAlgorithm; MessageType?: MessageType; Message: { reveal(): Buffer }; DryRun?: boolean },
  ) {
    const messageType = input.MessageType ?? 'RAW';
    const key = await access.keyFor(ctx, input.KeyId, operation, {
      grantTokens: input.GrantTokens,
      context: { 'kms:SigningAlgorithm': input.SigningAlgorithm, 'kms:MessageType': messageType },
    });
    assertUsable(key);
    if (key.keyUsage !== 'SIGN_VERIFY') {
      throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
    }
    if (!algorithmsOf(key.keySpec, key.keyUsage).signing?.includes(input.SigningAlgorithm)) {
      throw kmsError('InvalidKeyUsageException', `The signing algorithm ${input.SigningAlgorithm} is not compatible with KeySpec ${key.keySpec}.`);
    }
    const scheme = SCHEMES[input.SigningAlgorithm];
    assertMessageType(scheme, input.SigningAlgorithm, messageType, input.Message.reveal());
    const native = nativeParams(scheme, messageType);
    if (native && !digestSigner) throw unsupported(input.SigningAlgorithm, messageType);
    if (input.DryRun) throw dryRunError();
    return { key, scheme, digest: messageType === 'DIGEST', native };
  }

  /** The backing private key (PKCS #8 DER). It is the keyring's cached copy: read, never kept or zeroed here. */
  async function privateKeyDerOf(key: KeyRecord): Promise<Buffer> {
    const der = await material.open(key, key.currentBackingKeyId);
    if (!der) throw kmsError('KMSInternalException', 'The key material is missing.');
    return der;
  }

  /** The addon's answer; its failures (never carrying key bytes) become KMSInternalException. */
  function nativeCall<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      deps.logger.error('kms: the kms-digest addon failed', { error: (error as Error).message });
      throw kmsError('KMSInternalException', 'The signature operation failed.');
    }
  }

  async function sign(ctx: RequestContext, input: KmsInput<'Sign'>) {
    const { key, scheme, digest, native } = await signingKey(ctx, 'Sign', input);
    const message = input.Message.reveal();
    if (native && digestSigner) {
      const der = await privateKeyDerOf(key);
      const signature = nativeCall(() => digestSigner.signDigest(der, message, native));
      return { KeyId: key.arn, Signature: signature, SigningAlgorithm: input.SigningAlgorithm };
    }
    const privateKey = await privateKeyOf(key);
    let signature: Buffer;
    switch (scheme.kind) {
      case 'rsa-pkcs1':
        signature = digest
          ? privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_PREFIX[scheme.hash], message]))
          : signWith(scheme.hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PADDING });
        break;
      case 'rsa-pss':
        // AWS's RSASSA-PSS salt is as long as the digest.
        signature = signWith(scheme.hash, message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
        break;
      case 'ecdsa':
        // DER-encoded ECDSA-Sig-Value, as AWS returns it.
        signature = signWith(scheme.hash, message, { key: privateKey, dsaEncoding: 'der' });
        break;
      case 'ed25519':
      case 'ml-dsa':
        // Pure Ed25519 and pure ML-DSA (empty context) over the message itself.
        signature = signWith(null, message, privateKey);
        break;
      default:
        throw unsupported(input.SigningAlgorithm, input.MessageType ?? 'RAW');
    }
    return { KeyId: key.arn, Signature: signature, SigningAlgorithm: input.SigningAlgorithm };
  }

  async function verify(ctx: RequestContext, input: KmsInput<'Verify'>) {
    const { key, scheme, digest, native } = await signingKey(ctx, 'Verify', input);
    let valid: boolean;
    if (native && digestSigner) {
      const spki = publicKeyFromPrivate(await privateKeyDerOf(key));
      valid = nativeCall(() => digestSigner.verifyDigest(spki, input.Message.reveal(), input.Signature, native));
    } else {
      valid = signatureValid(scheme, digest, createPublicKey(await privateKeyOf(key)), input.Message.reveal(), input.Signature);
    }
    if (!valid) {
      throw kmsError(
        'KMSInvalidSignatureException',
        'The signature verification failed: the signature was not produced by signing this message with this KMS key and signing algorithm.',
      );
    }
    return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
  }

  return { getPublicKey, sign, verify };
}

/**
 * MessageType rules (Sign, MessageType): DIGEST must be as long as the algorithm's hash; EXTERNAL_MU is ML-DSA's and
 * 64 bytes; ED25519_SHA_512 requires RAW and ED25519_PH_SHA_512 DIGEST (the message's SHA-512 digest: Ed25519ph's
 * prehash, PH(M) in RFC 8032 section 5.1). AWS documents no DIGEST for ML-DSA (RAW up to 4096 bytes, or
 * EXTERNAL_MU for larger messages, https://docs.aws.amazon.com/kms/latest/developerguide/mldsa.html): refused as
 * a ValidationException.
 */
function assertMessageType(scheme: Scheme, algorithm: SigningAlgorithm, messageType: MessageType, message: Buffer): void {
  if (messageType === 'EXTERNAL_MU') {
    if (scheme.kind !== 'ml-dsa') throw kmsError('ValidationException', `MessageType EXTERNAL_MU is valid only with the ML_DSA_SHAKE_256 signing algorithm, not ${algorithm}.`);
    if (message.length !== MU_BYTES) throw kmsError('ValidationException', `An EXTERNAL_MU message must be ${MU_BYTES} bytes long.`);
    return;
  }
  if (scheme.kind === 'ed25519' && messageType !== 'RAW') throw kmsError('ValidationException', 'The ED25519_SHA_512 signing algorithm requires MessageType RAW.');
  if (scheme.kind === 'ed25519ph') {
    if (messageType !== 'DIGEST') throw kmsError('ValidationException', 'The ED25519_PH_SHA_512 signing algorithm requires MessageType DIGEST.');
    if (message.length !== DIGEST_BYTES.sha512) throw digestLength(algorithm);
    return;
  }
  if (scheme.kind === 'ml-dsa' && messageType === 'DIGEST') {
    throw kmsError('ValidationException', 'The ML_DSA_SHAKE_256 signing algorithm takes MessageType RAW or EXTERNAL_MU, not DIGEST.');
  }
  if (messageType === 'DIGEST' && 'hash' in scheme) {
    if (message.length !== DIGEST_BYTES[scheme.hash]) throw digestLength(algorithm);
  }
}

/** What the kms-digest addon computes (node:crypto cannot): a digest with PSS or ECDSA, Ed25519ph, ML-DSA's external μ. */
function nativeParams(scheme: Scheme, messageType: MessageType): DigestSignatureParams | undefined {
  if (messageType === 'DIGEST' && (scheme.kind === 'rsa-pss' || scheme.kind === 'ecdsa')) {
    return { scheme: scheme.kind === 'rsa-pss' ? 'pss' : 'ecdsa', hash: scheme.hash };
  }
  if (scheme.kind === 'ed25519ph') return { scheme: 'ed25519ph' };
  if (scheme.kind === 'ml-dsa' && messageType === 'EXTERNAL_MU') return { scheme: 'mldsa-mu' };
  return undefined;
}

function signatureValid(scheme: Scheme, digest: boolean, publicKey: KeyObject, message: Buffer, signature: Buffer): boolean {
  try {
    switch (scheme.kind) {
      case 'rsa-pkcs1': {
        if (!digest) return verifyWith(scheme.hash, message, { key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
        // The signature must be exactly as long as the modulus, as crypto.verify requires of the RAW form.
        const modulusBytes = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
        if (signature.length !== modulusBytes) return false;
        const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
        const expected = Buffer.concat([DIGEST_INFO_PREFIX[scheme.hash], message]);
        return recovered.length === expected.length && timingSafeEqual(recovered, expected);
      }
      case 'rsa-pss':
        return verifyWith(scheme.hash, message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
      case 'ecdsa':
        return verifyWith(scheme.hash, message, { key: publicKey, dsaEncoding: 'der' }, signature);
      case 'ed25519':
      case 'ml-dsa':
        return verifyWith(null, message, publicKey, signature);
      default:
        return false;
    }
  } catch {
    // A malformed signature (bad DER, wrong length, bad padding) is an invalid one.
    return false;
  }
}

function digestLength(algorithm: SigningAlgorithm) {
  return kmsError('ValidationException', `Digest is invalid length for algorithm ${algorithm}.`);
}

function unsupported(algorithm: SigningAlgorithm, messageType: MessageType) {
  const instead =
    algorithm === 'ED25519_PH_SHA_512'
      ? ': use ED25519_SHA_512 with MessageType RAW instead.'
      : messageType === 'RAW'
        ? '.'
        : ': send the whole message (up to 4096 bytes) with MessageType RAW instead.';
  return kmsError('UnsupportedOperationException', `MessageType ${messageType} with the ${algorithm} signing algorithm is not supported by this Coffer server${instead}`);
}
