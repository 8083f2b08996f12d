import { combine, split } from 'shamir-secret-sharing';
import { KEY_BYTES } from './aead.js';

/**
 * Shamir's secret sharing of the root key over GF(256), by the `shamir-secret-sharing` package (audited by Cure53
 * and Zellic, no dependencies; its randomness is crypto.getRandomValues). A share is the key's length plus one
 * byte (the x coordinate), written as `coffer-share:` + base64. Fewer than K shares do not fail on their own:
 * they reconstruct a wrong key, which the caller detects with the root key check value.
 */
const SHARE_PREFIX = 'coffer-share:';

export class ShareFormatError extends Error {
  override name = 'ShareFormatError';
}

export async function splitRootKey(rootKey: Buffer, shares: number, threshold: number): Promise<string[]> {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || shares < threshold || shares > 255) {
    throw new ShareFormatError('shares and threshold must be whole numbers with 2 ≤ threshold ≤ shares ≤ 255');
  }
  const parts = await split(new Uint8Array(rootKey), shares, threshold);
  return parts.map((part) => SHARE_PREFIX + Buffer.from(part).toString('base64'));
}

/** The bytes of one share as printed; ShareFormatError names what is wrong without echoing the share. */
export function decodeShare(text: string): Buffer {
  const trimmed = text.trim();
  if (!trimmed.startsWith(SHARE_PREFIX)) throw new ShareFormatError(`a share starts with "${SHARE_PREFIX}"`);
  const bytes = Buffer.from(trimmed.slice(SHARE_PREFIX.length), 'base64');
  if (bytes.length !== KEY_BYTES + 1 || bytes.toString('base64') !== trimmed.slice(SHARE_PREFIX.length)) {
    throw new ShareFormatError(`a share holds ${KEY_BYTES + 1} bytes, base64-encoded`);
  }
  if (bytes[KEY_BYTES] === 0) throw new ShareFormatError('a share has an x coordinate from 1 to 255');
  return bytes;
}

/** The x coordinate of a share: two shares with the same one are the same share entered twice. */
export function shareIndex(share: Buffer): number {
  return share[share.length - 1]!;
}

/** Combines shares (each decoded, distinct x coordinates) into a candidate root key. */
export async function combineShares(shares: readonly Buffer[]): Promise<Buffer> {
  if (shares.length < 2) throw new ShareFormatError('at least two shares are needed');
  const combined = await combine(shares.map((share) => new Uint8Array(share)));
  const key = Buffer.from(combined);
  combined.fill(0);
  return key;
}
