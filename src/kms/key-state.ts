import { KEY_STATES, type KeyRecord, type KeyState } from '../store/index.js';
import { kmsError } from './errors.js';

export { KEY_STATES, type KeyState };

/**
 * Which key states each kind of operation accepts, and the error for the others.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
 */

/** Encrypt, Decrypt, GenerateDataKey and the like: only an Enabled key works. */
export function assertUsable(key: KeyRecord): void {
  if (key.keyState === 'Enabled') return;
  if (key.keyState === 'Disabled') throw kmsError('DisabledException', `${key.arn} is disabled.`);
  throw invalidState(key);
}

/** Management operations (tags, description, policy, rotation settings) refuse a key pending deletion. */
export function assertNotPendingDeletion(key: KeyRecord): void {
  if (key.keyState === 'PendingDeletion' || key.keyState === 'PendingReplicaDeletion') throw invalidState(key);
}

/**
 * A key whose deletion window has ended is gone for callers from that moment, even before the sweeper
 * (maintenance.ts) or a lookup (key-lookup.ts) removes its row.
 */
export function isPastDeletionWindow(key: KeyRecord, now: Date): boolean {
  return key.keyState === 'PendingDeletion' && key.deletionDate !== undefined && key.deletionDate <= now;
}

/** Imported material whose ValidTo has come: deleted at the next lookup or sweep (the key becomes PendingImport). */
export function isMaterialExpired(key: KeyRecord, now: Date): boolean {
  return key.validTo !== undefined && key.currentBackingKeyId !== '' && key.validTo <= now;
}

export function invalidState(key: KeyRecord): Error {
  const state =
    key.keyState === 'PendingDeletion' ? 'pending deletion'
    : key.keyState === 'PendingReplicaDeletion' ? 'pending replica deletion'
    : key.keyState === 'PendingImport' ? 'pending import'
    : key.keyState;
  return kmsError('KMSInvalidStateException', `${key.arn} is ${state}.`);
}
