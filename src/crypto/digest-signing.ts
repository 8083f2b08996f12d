import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Signing and verifying a precomputed digest with the native addon native/kms-digest, which calls the OpenSSL
 * Node itself is built with (EVP_PKEY_sign / EVP_PKEY_verify): node:crypto's sign and verify always hash their
 * input, so they cannot take a digest for RSASSA-PSS or ECDSA, and node has no Ed25519ph instance and no ML-DSA
 * external-μ parameter. The addon holds no cryptography of its own, only the calls into OpenSSL.
 *
 * - `pss`: RSASSA-PSS over a digest of `hash`, MGF1 with the same hash, salt as long as the digest.
 * - `ecdsa`: ECDSA over a digest of `hash`, DER-encoded ECDSA-Sig-Value.
 * - `ed25519ph`: RFC 8032 Ed25519ph (empty context) over a 64-byte SHA-512 digest of the message.
 * - `mldsa-mu`: FIPS 204 ML-DSA over a 64-byte external μ.
 */
export type DigestSignatureParams = { scheme: 'pss' | 'ecdsa'; hash: 'sha256' | 'sha384' | 'sha512' } | { scheme: 'ed25519ph' | 'mldsa-mu' };

export type DigestSigner = {
  /** The signature of `digest` with the private key (PKCS #8 DER). Throws (without key bytes in the message) on a bad key or digest. */
  signDigest(privateKeyPkcs8Der: Buffer, digest: Buffer, params: DigestSignatureParams): Buffer;
  /** Whether `signature` is a valid signature of `digest` for the public key (SubjectPublicKeyInfo DER); a malformed one is invalid. */
  verifyDigest(publicKeySpkiDer: Buffer, digest: Buffer, signature: Buffer, params: DigestSignatureParams): boolean;
};

/** The addon, or why it could not be loaded (the callers then refuse what needs it). */
export type DigestSignerLoad = { signer: DigestSigner; path: string } | { signer: undefined; reason: string };

type Addon = {
  sign(key: Buffer, digest: Buffer, scheme: string, hash: string): Buffer;
  verify(key: Buffer, digest: Buffer, signature: Buffer, scheme: string, hash: string): boolean;
};

const ADDON_FILE = join('native', 'kms-digest', 'build', 'Release', 'kms_digest.node');

/**
 * Loads the addon from `path`, or else from the package this module belongs to: the first folder, going up from
 * this file (src/crypto or dist/crypto when compiled, dist/bundle when bundled), that holds
 * native/kms-digest/build/Release/kms_digest.node (`npm ci` builds it there). Never throws.
 */
export function loadDigestSigner(path?: string): DigestSignerLoad {
  const file = path ?? locateAddon();
  if (!file) return { signer: undefined, reason: `${ADDON_FILE} was not found (run npm ci to build it)` };
  let addon: Addon;
  try {
    const module = { exports: {} as Partial<Addon> };
    process.dlopen(module, file);
    if (typeof module.exports.sign !== 'function' || typeof module.exports.verify !== 'function') {
      return { signer: undefined, reason: `${file} is not the kms-digest addon` };
    }
    addon = module.exports as Addon;
  } catch (error) {
    return { signer: undefined, reason: `${file} could not be loaded: ${(error as Error).message}` };
  }
  return {
    path: file,
    signer: {
      signDigest: (privateKeyPkcs8Der, digest, params) => addon.sign(privateKeyPkcs8Der, digest, params.scheme, hashName(params)),
      verifyDigest: (publicKeySpkiDer, digest, signature, params) => addon.verify(publicKeySpkiDer, digest, signature, params.scheme, hashName(params)),
    },
  };
}

function hashName(params: DigestSignatureParams): string {
  return 'hash' in params ? params.hash.toUpperCase() : '';
}

function locateAddon(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}
