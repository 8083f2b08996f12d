/**
 * Derives the SigV4 signing key (four chained HMACs over date, region, service and `aws4_request`) and caches
 * it, since one key serves every request a client signs for a scope on a given day.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
import { createHash, createHmac } from 'node:crypto';

export const SCOPE_TERMINATOR = 'aws4_request';

const DEFAULT_MAX_ENTRIES = 256;

export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  return hmacSha256(serviceKey, SCOPE_TERMINATOR);
}

/**
 * Bounded cache of derived signing keys. Entries are keyed by a SHA-256 of the secret, never the secret
 * itself, so a heap dump of the map keys does not reveal it. When full, the oldest entry is evicted
 * (a Map iterates in insertion order). Callers must not mutate the returned Buffer: it is shared.
 */
export class SigningKeyCache {
  readonly #maxEntries: number;
  readonly #keys = new Map<string, Buffer>();

  constructor(maxEntries: number = DEFAULT_MAX_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`SigningKeyCache maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
  }

  get(secret: string, date: string, region: string, service: string): Buffer {
    const cacheKey = `${secretFingerprint(secret)}\n${date}\n${region}\n${service}`;
    const cached = this.#keys.get(cacheKey);
    if (cached !== undefined) return cached;
    const signingKey = deriveSigningKey(secret, date, region, service);
    this.#remember(cacheKey, signingKey);
    return signingKey;
  }

  #remember(cacheKey: string, signingKey: Buffer): void {
    if (this.#keys.size >= this.#maxEntries) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
    this.#keys.set(cacheKey, signingKey);
  }
}

function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64');
}
