import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { Sensitive, type RequestContext } from '../../core/index.js';
import { dryRunError, kmsError, recipientUnsupported } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { privateKeyObject } from '../key-pairs.js';
import { algorithmsOf } from '../key-specs.js';
import { assertUsable } from '../key-state.js';
import type { KmsInput } from '../schemas.js';

/**
 * DeriveSharedSecret with an elliptic-curve key whose KeyUsage is KEY_AGREEMENT (ECC_NIST_P256/P384/P521):
 * ECDH between the key's private key (its backing key material, PKCS#8 DER) and the peer's public key (DER
 * SubjectPublicKeyInfo). The answer is the raw shared secret, the x-coordinate of the shared point, as AWS
 * returns it (its cofactor is 1 on these curves, so cofactor ECDH is plain ECDH).
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
 */
export function createKeyAgreementOperations(access: KeyAccess, material: KeyMaterial) {
  async function deriveSharedSecret(ctx: RequestContext, input: KmsInput<'DeriveSharedSecret'>) {
    if (input.Recipient) {
      throw recipientUnsupported();
    }
    const key = await access.keyFor(ctx, input.KeyId, 'DeriveSharedSecret', { grantTokens: input.GrantTokens });
    assertUsable(key);
    if (key.keyUsage !== 'KEY_AGREEMENT') {
      throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for DeriveSharedSecret.`);
    }
    if (!(algorithmsOf(key.keySpec, key.keyUsage).keyAgreement ?? []).includes(input.KeyAgreementAlgorithm)) {
      throw kmsError('InvalidKeyUsageException', `Algorithm ${input.KeyAgreementAlgorithm} is incompatible with key spec ${key.keySpec}.`);
    }
    const privateKey = privateKeyOf(await material.open(key, key.currentBackingKeyId));
    const peer = peerPublicKey(input.PublicKey, privateKey);
    if (input.DryRun) throw dryRunError();
    const secret = diffieHellman({ privateKey, publicKey: peer });
    return {
      KeyId: key.arn,
      SharedSecret: new Sensitive(secret),
      KeyAgreementAlgorithm: input.KeyAgreementAlgorithm,
      KeyOrigin: key.origin,
    };
  }

  return { deriveSharedSecret };
}

function privateKeyOf(der: Buffer | undefined): KeyObject {
  if (!der) throw kmsError('KMSInternalException', 'The key material is missing.');
  try {
    return privateKeyObject(der);
  } catch {
    throw kmsError('KMSInternalException', 'The key material could not be read.');
  }
}

/**
 * The peer's public key: a DER SubjectPublicKeyInfo of an EC key on the same curve as the KMS key (OpenSSL
 * refuses a point that is not on its curve when it decodes it). AWS answers a public key it cannot use with
 * ValidationException (with an empty message); Coffer says why.
 */
function peerPublicKey(der: Buffer, privateKey: KeyObject): KeyObject {
  let peer: KeyObject;
  try {
    peer = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw kmsError('ValidationException', 'PublicKey is not a valid DER-encoded X.509 SubjectPublicKeyInfo.');
  }
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (peer.asymmetricKeyType !== 'ec' || peer.asymmetricKeyDetails?.namedCurve !== curve) {
    throw kmsError('ValidationException', 'PublicKey must be an elliptic curve public key on the same curve as the KMS key.');
  }
  return peer;
}

