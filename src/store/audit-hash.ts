import { hash } from 'node:crypto';

/**
 * The audit hash chain's one formula. It lives in the store because the store's audit writer seals each event
 * against the chain head it reads under the write lock; `audit/chain.ts` re-exports it for verification.
 */

/** The prevHash of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** hash = SHA-256(prevHash ‖ canonical JSON of the event), hex. */
export function chainHash(prevHash: string, body: string): string {
  // One-shot over the concatenation: the same bytes as two update() calls, without a Hash object per event.
  return hash('sha256', prevHash + body, 'hex');
}
