import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { keySpecInfo, type KeyGeneration } from './key-specs.js';

const generateKeyPairAsync = promisify(generateKeyPair) as (
  type: string,
  options: Record<string, unknown>,
) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;

/**
 * A key's material as node:crypto makes it. For a key pair, `material` is the private key as PKCS#8 DER (the
 * backing key material the keyring seals) and `publicKeyDer` the SubjectPublicKeyInfo DER; for AES and HMAC
 * keys `material` is random bytes and there is no public key. The caller zeroes `material` once it is sealed.
 */
export type GeneratedKeyMaterial = { material: Buffer; publicKeyDer?: Buffer };

/** Makes new material for a key of this spec (key pairs with the asynchronous generateKeyPair: RSA 4096 takes a while). */
export async function generateKeyMaterial(keySpec: string): Promise<GeneratedKeyMaterial> {
  const generation = keySpecInfo(keySpec).generation;
  if (generation.kind === 'random') return { material: randomBytes(generation.bytes) };
  const { privateKey, publicKey } = await generateKeyPairAsync(...pairParameters(generation));
  return {
    material: privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
  };
}

function pairParameters(generation: KeyGeneration): [string, Record<string, unknown>] {
  switch (generation.kind) {
    case 'rsa':
      return ['rsa', { modulusLength: generation.modulusLength, publicExponent: 65537 }];
    case 'ec':
      return ['ec', { namedCurve: generation.namedCurve }];
    case 'ed25519':
    case 'ml-dsa-44':
    case 'ml-dsa-65':
    case 'ml-dsa-87':
      return [generation.kind, {}];
    default:
      throw new Error(`no key pair for ${generation.kind}`);
  }
}

/** The private key (PKCS#8 DER) as a KeyObject, for signing and decryption. */
export function privateKeyObject(privateKeyDer: Buffer): KeyObject {
  return createPrivateKey({ key: privateKeyDer, format: 'der', type: 'pkcs8' });
}

/** The SubjectPublicKeyInfo DER of a private key (PKCS#8 DER): what GetPublicKey returns. */
export function publicKeyFromPrivate(privateKeyDer: Buffer): Buffer {
  return createPublicKey(privateKeyObject(privateKeyDer)).export({ format: 'der', type: 'spki' });
}
