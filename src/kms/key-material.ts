import { randomUUID } from 'node:crypto';
import type { BackingKeyRecord, KeyRecord, RotationType } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';

/**
 * Backing keys: the material behind a KMS key, sealed under the root key and bound to "<key ARN>#<backing key id>",
 * so a row moved to another key does not open. A symmetric encryption key has one per rotation (AES-256); an
 * HMAC key's is its HMAC key, an asymmetric key's its private key as PKCS#8 DER (key-pairs.ts), one each.
 */
export function createKeyMaterial(deps: Pick<KmsDeps, 'store' | 'keyring' | 'logger'>) {
  /** Seals `material` (made by key-pairs.ts generateKeyMaterial) as a new backing key, and zeroes it. */
  function newBackingKey(keyArn: string, keyId: string, createdAt: Date, material: Buffer, rotationType?: RotationType): BackingKeyRecord {
    const backingKeyId = randomUUID();
    try {
      const sealedMaterial = deps.keyring.seal(material, owner(keyArn, backingKeyId));
      return { keyId, backingKeyId, sealedMaterial, createdAt, rotationType };
    } finally {
      material.fill(0);
    }
  }

  /** Opens the material of one backing key; undefined when the key never had that backing key. */
  async function open(key: KeyRecord, backingKeyId: string): Promise<Buffer | undefined> {
    // Backing keys are never rewritten, so material opened once for this owner is the row's material: the
    // store read is needed only the first time (the key record itself, its state and policy, is read per call).
    const cached = deps.keyring.cached(owner(key.arn, backingKeyId));
    if (cached) return cached;
    const backing = await deps.store.getBackingKey(key.keyId, backingKeyId);
    if (!backing) return undefined;
    const material = deps.keyring.open(backing.sealedMaterial, owner(key.arn, backingKeyId));
    if (!material) {
      // The row does not open under this root key and owner: the database was altered or mixed up.
      deps.logger.error('backing key failed to open', { keyId: key.keyId, backingKeyId });
      throw kmsError('KMSInternalException', 'The key material could not be read.');
    }
    return material;
  }

  return { newBackingKey, open };
}

function owner(keyArn: string, backingKeyId: string): string {
  return `${keyArn}#${backingKeyId}`;
}

export type KeyMaterial = ReturnType<typeof createKeyMaterial>;
