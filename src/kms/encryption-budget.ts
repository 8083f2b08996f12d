import { systemClock } from '../core/index.js';
import { type KeyRecord } from '../store/index.js';
import type { EncryptionBudgetOptions, KmsDeps } from './deps.js';
import { kmsError } from './errors.js';
import type { KeyMaterial } from './key-material.js';
import { primaryOf, rotationBackings } from './operations/multi-region.js';

/**
 * AES-GCM with random 96-bit IVs: NIST SP 800-38D (section 8.3) allows one key at most 2^32 invocations, so the
 * chance that two IVs repeat stays below 2^-32. https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf
 */
export const GCM_RANDOM_IV_INVOCATION_LIMIT = 2 ** 32;
/**
 * Where a backing key is replaced: a quarter of the limit, so that a key whose replacement keeps failing (logged,
 * tried again at every block) or imported material (never replaced) still has 3 × 2^30 encryptions before refusal.
 */
export const DEFAULT_ENCRYPTIONS_PER_BACKING_KEY = 2 ** 30;
/** Encryptions a node reserves at a time: one store write per block, at most a block per node unused after a crash. */
export const DEFAULT_RESERVATION_BLOCK = 4096;

/** Counts [next, end) of a backing key reserved by this process; `successor` once the key has a newer one. */
type Lease = { next: number; end: number; successor?: string };

/**
 * Counts the encryptions under each symmetric backing key and replaces the key's current backing key before the
 * count approaches the GCM bound. The count lives in the store as reservations: a node reserves a block of counts
 * (`reserveEncryptions`) before it spends them, so the stored total is never below the encryptions made, across
 * nodes and crashes, and only one encryption in a block writes to the store. When a reservation reaches the
 * threshold the key gets a new backing key (an AUTOMATIC rotation; older backing keys stay for Decrypt), and counts
 * past the threshold are never spent: a request holding the old key record moves on to the new backing key. So no
 * backing key seals more than the threshold, however many nodes and requests race. Imported material cannot be
 * replaced by Coffer: it is used up to the bound, then refused.
 */
export function createEncryptionBudget(deps: Pick<KmsDeps, 'store' | 'logger'>, material: KeyMaterial, options: EncryptionBudgetOptions = {}) {
  const threshold = options.encryptionsPerBackingKey ?? DEFAULT_ENCRYPTIONS_PER_BACKING_KEY;
  const block = Math.max(1, Math.min(options.reservationBlock ?? DEFAULT_RESERVATION_BLOCK, threshold));
  const clock = options.clock ?? systemClock;
  if (!(threshold >= 1 && threshold <= GCM_RANDOM_IV_INVOCATION_LIMIT)) throw new Error(`encryptionsPerBackingKey must be 1 to 2^32, not ${threshold}`);
  const leases = new Map<string, Lease>();
  const reserving = new Map<string, Promise<void>>();

  /**
   * Takes one encryption under the key's current backing key, or under its successor when the budget replaced it;
   * returns the backing key id to seal under. Call it before every encryption under a symmetric key.
   */
  async function spend(key: KeyRecord): Promise<string> {
    let backingKeyId = key.currentBackingKeyId;
    for (;;) {
      const lease = leases.get(backingKeyId);
      if (lease && lease.next < lease.end) {
        lease.next += 1;
        return backingKeyId;
      }
      if (lease?.successor) {
        backingKeyId = lease.successor;
        continue;
      }
      if (lease && lease.end >= GCM_RANDOM_IV_INVOCATION_LIMIT) {
        throw kmsError('LimitExceededException', `${key.arn} has used its current key material for the most encryptions AES-GCM allows; encrypt under a new key.`);
      }
      let pending = reserving.get(backingKeyId);
      if (!pending) {
        pending = reserve(key, backingKeyId).finally(() => reserving.delete(backingKeyId));
        reserving.set(backingKeyId, pending);
      }
      await pending;
    }
  }

  async function reserve(key: KeyRecord, backingKeyId: string): Promise<void> {
    const total = await deps.store.reserveEncryptions(backingKeyId, block);
    const lease: Lease = { next: total - block, end: Math.min(total, GCM_RANDOM_IV_INVOCATION_LIMIT) };
    if (total >= threshold) {
      const successor = await replace(key, backingKeyId, total);
      if (successor) Object.assign(lease, { end: Math.min(lease.end, threshold), successor });
    }
    leases.set(backingKeyId, lease);
  }

  /**
   * Makes a new backing key current unless another request or node already did; returns the key's current backing
   * key id when it is no longer `backingKeyId`. A failure is logged, and tried again at the next block.
   */
  async function replace(key: KeyRecord, backingKeyId: string, total: number): Promise<string | undefined> {
    if (key.origin !== 'AWS_KMS') {
      // Said once, when the reservation crosses the threshold, not at every block after it.
      if (total - block < threshold) {
        deps.logger.warn('imported key material is near the AES-GCM encryption limit; import new material into a new key', { keyArn: key.arn, backingKeyId, reserved: total });
      }
      return undefined;
    }
    try {
      const primary = await primaryOf(deps, key);
      let made: string | undefined;
      const rotated =
        primary !== undefined &&
        (await rotationBackings(deps, material, primary, clock.now(), 'AUTOMATIC', (backing, replicas) => {
          made = backing.backingKeyId;
          return deps.store.rotateKeyForUsage(backing, backingKeyId, replicas);
        }));
      if (rotated) {
        deps.logger.info('key material replaced after its encryption budget', { keyArn: key.arn, backingKeyId, reserved: total });
        return made;
      }
      const current = (await deps.store.getKey(key.accountId, key.region, key.keyId))?.currentBackingKeyId;
      return current && current !== backingKeyId ? current : undefined;
    } catch (error) {
      deps.logger.error('could not replace key material at its encryption budget', { keyArn: key.arn, backingKeyId, error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  return { spend };
}

export type EncryptionBudget = ReturnType<typeof createEncryptionBudget>;
