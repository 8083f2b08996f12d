/**
 * Derives the SigV4 signing key (four chained HMACs over date, region, service and `aws4_request`) and caches
 * it, since one key serves every request a client signs for a scope on a given day.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export const SCOPE_TERMINATOR = 'aws4_request';

const DEFAULT_MAX_ENTRIES = 256;

export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The signature as the client sends it: node:crypto writes the hex itself, without a Buffer in between. */
export function hmacSha256Hex(key: KeyObject, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  return hmacSha256(serviceKey, SCOPE_TERMINATOR);
}

/** The cache's key for a signing key: the access key id and the scope's date, region and service. */
export function signingKeyCacheKey(accessKeyId: string, date: string, region: string, service: string): string {
  return `${accessKeyId}\n${date}\n${region}\n${service}`;
}

/**
 * Bounded cache of derived signing keys, keyed by access key id, date, region and service. An entry also
 * remembers the secret it was derived from (a reference to the string the credential store already holds, not
 * a copy) and is used only for that same secret, so a changed secret never meets a stale key. Keying by the
 * access key id rather than a digest of the secret keeps the per-request lookup free of hashing. When full,
 * the oldest entry is evicted (a Map iterates in insertion order). The key is kept as a KeyObject: createHmac takes
 * its native handle as is, where a Buffer key is checked and wrapped again on every request.
 */
export class SigningKeyCache {
  readonly #maxEntries: number;
  readonly #keys = new Map<string, { secret: string; signingKey: KeyObject }>();

  constructor(maxEntries: number = DEFAULT_MAX_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`SigningKeyCache maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
  }

  /** `cacheKey`: signingKeyCacheKey of the same four, when the caller has it already (a remembered credential scope). */
  get(accessKeyId: string, secret: string, date: string, region: string, service: string, cacheKey = signingKeyCacheKey(accessKeyId, date, region, service)): KeyObject {
    const cached = this.#keys.get(cacheKey);
    if (cached !== undefined && cached.secret === secret) return cached.signingKey;
    const signingKey = createSecretKey(deriveSigningKey(secret, date, region, service));
    this.#remember(cacheKey, { secret, signingKey });
    return signingKey;
  }

  #remember(cacheKey: string, entry: { secret: string; signingKey: KeyObject }): void {
    this.#keys.delete(cacheKey);
    if (this.#keys.size >= this.#maxEntries) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
    this.#keys.set(cacheKey, entry);
  }
}
