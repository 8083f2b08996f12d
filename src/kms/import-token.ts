import type { Keyring } from '../crypto/index.js';

/**
 * The ImportToken of GetParametersForImport, self-contained so that no table holds pending imports: the
 * wrapping private key (PKCS#8 DER) with the key ARN, wrapping algorithm, wrapping key spec and expiry,
 * sealed with the keyring under the root key and bound to "<key ARN>#import-token". A token of another key
 * does not open (its owner differs), nor does a token with one byte changed (the GCM tag), nor one sealed under
 * another root key. What is inside is never shown to the caller: it leaves Coffer only sealed.
 *
 *   sealed payload:  version(1) | expiresAt ms (8, big endian) | algorithm(1) | spec(1) | arn length(2) | arn | PKCS#8
 *
 * Size: RSA_4096's PKCS#8 is about 2,375 bytes, so a token is about 2.5 KB, under AWS's ImportToken limit of 6,144
 * bytes (the CiphertextType blob). https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html
 */

export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];
export const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096'] as const;
export type WrappingKeySpec = (typeof WRAPPING_KEY_SPECS)[number];

const TOKEN_VERSION = 1;
/** AWS's limit on ImportToken (CiphertextType, max 6144 bytes). */
export const MAX_IMPORT_TOKEN_BYTES = 6144;

export type ImportTokenContents = {
  keyArn: string;
  wrappingAlgorithm: WrappingAlgorithm;
  wrappingKeySpec: WrappingKeySpec;
  expiresAt: Date;
  /** The wrapping key pair's private key, PKCS#8 DER. */
  privateKeyPkcs8: Buffer;
};

function owner(keyArn: string): string {
  return `${keyArn}#import-token`;
}

export function sealImportToken(keyring: Keyring, contents: ImportTokenContents): Buffer {
  const arn = Buffer.from(contents.keyArn, 'utf8');
  const head = Buffer.alloc(1 + 8 + 1 + 1 + 2);
  head.writeUInt8(TOKEN_VERSION, 0);
  head.writeBigUInt64BE(BigInt(contents.expiresAt.getTime()), 1);
  head.writeUInt8(WRAPPING_ALGORITHMS.indexOf(contents.wrappingAlgorithm), 9);
  head.writeUInt8(WRAPPING_KEY_SPECS.indexOf(contents.wrappingKeySpec), 10);
  head.writeUInt16BE(arn.length, 11);
  const payload = Buffer.concat([head, arn, contents.privateKeyPkcs8]);
  try {
    const token = keyring.seal(payload, owner(contents.keyArn));
    if (token.length > MAX_IMPORT_TOKEN_BYTES) throw new Error(`import token of ${token.length} bytes exceeds ${MAX_IMPORT_TOKEN_BYTES}`);
    return token;
  } finally {
    payload.fill(0);
  }
}

/**
 * The token's contents, or undefined when it does not open for this key (another key's token, altered bytes,
 * another root key) or is malformed. Expiry is the caller's to judge (ExpiredImportTokenException).
 */
export function openImportToken(keyring: Keyring, keyArn: string, token: Buffer): ImportTokenContents | undefined {
  const payload = keyring.openUncached(token, owner(keyArn));
  if (!payload) return undefined;
  try {
    if (payload.length < 13 || payload.readUInt8(0) !== TOKEN_VERSION) return undefined;
    const expiresAt = new Date(Number(payload.readBigUInt64BE(1)));
    const wrappingAlgorithm = WRAPPING_ALGORITHMS[payload.readUInt8(9)];
    const wrappingKeySpec = WRAPPING_KEY_SPECS[payload.readUInt8(10)];
    const arnLength = payload.readUInt16BE(11);
    if (!wrappingAlgorithm || !wrappingKeySpec || payload.length <= 13 + arnLength) return undefined;
    const arn = payload.subarray(13, 13 + arnLength).toString('utf8');
    if (arn !== keyArn) return undefined;
    return { keyArn: arn, wrappingAlgorithm, wrappingKeySpec, expiresAt, privateKeyPkcs8: Buffer.from(payload.subarray(13 + arnLength)) };
  } finally {
    payload.fill(0);
  }
}
