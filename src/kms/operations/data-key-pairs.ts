import { Sensitive, type RequestContext } from '../../core/index.js';
import { keyMaterialIdOfCiphertext } from '../key-material-id.js';
import { dryRunError, kmsError, recipientUnsupported } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import { generateKeyMaterial } from '../key-pairs.js';
import { assertUsable } from '../key-state.js';
import type { KmsInput } from '../schemas.js';
import type { SymmetricCiphertexts } from '../symmetric-ciphertext.js';
import { assertEncryptionAlgorithm } from './asymmetric-encryption.js';

/**
 * GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: a fresh key pair for use outside KMS, its private
 * key (DER PKCS#8 PrivateKeyInfo) encrypted under a symmetric encryption key exactly as Encrypt does, with the
 * request's encryption context, so Decrypt with that context gives it back; the public key is DER
 * SubjectPublicKeyInfo. https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
 */
export function createDataKeyPairOperations(access: KeyAccess, ciphertexts: SymmetricCiphertexts) {
  async function newDataKeyPair(
    ctx: RequestContext,
    operation: string,
    input: KmsInput<'GenerateDataKeyPairWithoutPlaintext'>,
  ) {
    const key = await access.keyFor(ctx, input.KeyId, operation, { encryptionContext: input.EncryptionContext, grantTokens: input.GrantTokens });
    assertUsable(key);
    // "you must specify a symmetric encryption KMS key to encrypt the private key in a data key pair. You cannot
    // use an asymmetric KMS key": the same InvalidKeyUsageException as GenerateDataKey.
    assertEncryptionAlgorithm(key, undefined, operation);
    if (input.KeyPairSpec === 'SM2') {
      throw kmsError('UnsupportedOperationException', 'KeyPairSpec SM2 is available only in AWS China Regions and is not supported by this Coffer server.');
    }
    if (input.DryRun) throw dryRunError();
    // KeyPairSpec names the same key pairs as KeySpec: one table and one generator (key-specs.ts, key-pairs.ts).
    const pair = await generateKeyMaterial(input.KeyPairSpec);
    try {
      const privateKeyCiphertext = await ciphertexts.encryptUnder(key, pair.material, input.EncryptionContext);
      return { key, privateKeyDer: pair.material, publicKeyDer: pair.publicKeyDer!, privateKeyCiphertext };
    } catch (error) {
      pair.material.fill(0);
      throw error;
    }
  }

  async function generateDataKeyPair(ctx: RequestContext, input: KmsInput<'GenerateDataKeyPair'>) {
    if (input.Recipient) throw recipientUnsupported();
    const pair = await newDataKeyPair(ctx, 'GenerateDataKeyPair', input);
    return {
      PrivateKeyCiphertextBlob: pair.privateKeyCiphertext,
      PrivateKeyPlaintext: new Sensitive(pair.privateKeyDer),
      PublicKey: pair.publicKeyDer,
      KeyId: pair.key.arn,
      KeyPairSpec: input.KeyPairSpec,
      KeyMaterialId: keyMaterialIdOfCiphertext(pair.key, pair.privateKeyCiphertext),
    };
  }

  async function generateDataKeyPairWithoutPlaintext(ctx: RequestContext, input: KmsInput<'GenerateDataKeyPairWithoutPlaintext'>) {
    const pair = await newDataKeyPair(ctx, 'GenerateDataKeyPairWithoutPlaintext', input);
    pair.privateKeyDer.fill(0);
    return {
      PrivateKeyCiphertextBlob: pair.privateKeyCiphertext,
      PublicKey: pair.publicKeyDer,
      KeyId: pair.key.arn,
      KeyPairSpec: input.KeyPairSpec,
      KeyMaterialId: keyMaterialIdOfCiphertext(pair.key, pair.privateKeyCiphertext),
    };
  }

  return { generateDataKeyPair, generateDataKeyPairWithoutPlaintext };
}

