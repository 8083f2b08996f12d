import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestContext } from '../../core/index.js';
import type { KeyRecord } from '../../store/index.js';
import { dryRunError, kmsError } from '../errors.js';
import type { KeyAccess } from '../key-access.js';
import type { KeyMaterial } from '../key-material.js';
import { assertUsable } from '../key-state.js';
import { algorithmsOf } from '../key-specs.js';
import type { KmsInput } from '../schemas.js';

/** The hash behind each MAC algorithm (HMAC, RFC 2104). */
const HMAC_HASH = { HMAC_SHA_224: 'sha224', HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512' } as const;
type MacAlgorithm = keyof typeof HMAC_HASH;

/**
 * GenerateMac and VerifyMac with an HMAC key (KeyUsage GENERATE_VERIFY_MAC). The key's backing key material is
 * the HMAC key itself; each key spec supports the one algorithm of its size (HMAC_256 → HMAC_SHA_256).
 * https://docs.aws.amazon.com/kms/latest/developerguide/hmac.html
 */
export function createMacOperations(access: KeyAccess, material: KeyMaterial) {
  async function macKey(ctx: RequestContext, operation: string, input: { KeyId: string; MacAlgorithm: MacAlgorithm; GrantTokens?: string[] }) {
    const key = await access.keyFor(ctx, input.KeyId, operation, { grantTokens: input.GrantTokens });
    assertUsable(key);
    assertMacAlgorithm(key, input.MacAlgorithm, operation);
    return key;
  }

  async function computeMac(key: KeyRecord, algorithm: MacAlgorithm, message: Buffer): Promise<Buffer> {
    const hmacKey = await material.open(key, key.currentBackingKeyId);
    if (!hmacKey) throw kmsError('KMSInternalException', 'The key material is missing.');
    return createHmac(HMAC_HASH[algorithm], hmacKey).update(message).digest();
  }

  /** https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html */
  async function generateMac(ctx: RequestContext, input: KmsInput<'GenerateMac'>) {
    const key = await macKey(ctx, 'GenerateMac', input);
    if (input.DryRun) throw dryRunError();
    const mac = await computeMac(key, input.MacAlgorithm, input.Message.reveal());
    return { Mac: mac, MacAlgorithm: input.MacAlgorithm, KeyId: key.arn };
  }

  /**
   * https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html: a MAC that does not match fails the
   * call with KMSInvalidMacException (AWS sends it with an empty message); MacValid is true otherwise.
   */
  async function verifyMac(ctx: RequestContext, input: KmsInput<'VerifyMac'>) {
    const key = await macKey(ctx, 'VerifyMac', input);
    if (input.DryRun) throw dryRunError();
    const expected = await computeMac(key, input.MacAlgorithm, input.Message.reveal());
    const given = input.Mac;
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw kmsError('KMSInvalidMacException', 'The MAC is not valid for this message, key and MAC algorithm.');
    }
    return { KeyId: key.arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
  }

  return { generateMac, verifyMac };
}

/**
 * AWS: "<key ARN> key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac." and "Algorithm HMAC_SHA_256 is
 * incompatible with key spec HMAC_224." (both InvalidKeyUsageException).
 */
function assertMacAlgorithm(key: KeyRecord, algorithm: MacAlgorithm, operation: string): void {
  if (key.keyUsage !== 'GENERATE_VERIFY_MAC') {
    throw kmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  }
  if (!(algorithmsOf(key.keySpec, key.keyUsage).mac ?? []).includes(algorithm)) {
    throw kmsError('InvalidKeyUsageException', `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`);
  }
}

