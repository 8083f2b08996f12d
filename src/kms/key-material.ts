import { randomBytes, randomUUID } from 'node:crypto';
import { KEY_BYTES } from '../crypto/index.js';
import type { BackingKeyRecord, KeyRecord, RotationType } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';

/**
 * Backing keys: the AES-256 material behind a symmetric KMS key, one per rotation. Material is sealed under
 * the root key and bound to "<key ARN>#<backing key id>", so a row moved to another key does not open.
 */
export function createKeyMaterial(deps: Pick<KmsDeps, 'store' | 'keyring' | 'logger'>) {
  function newBackingKey(keyArn: string, keyId: string, createdAt: Date, rotationType?: RotationType): BackingKeyRecord {
    const backingKeyId = randomUUID();
    const material = randomBytes(KEY_BYTES);
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

  /**
   * The backing key for imported material: its id is derived from the material (import.ts), so the same
   * material imported again gets the same id and the ciphertexts made before decrypt again.
   */
  function importedBackingKey(keyArn: string, keyId: string, backingKeyId: string, material: Buffer, createdAt: Date): BackingKeyRecord {
    return { keyId, backingKeyId, sealedMaterial: deps.keyring.seal(material, owner(keyArn, backingKeyId)), createdAt };
  }

  /** Drops this process's cached copy of a backing key's material (its row was deleted). */
  function forget(keyArn: string, backingKeyId: string): void {
    deps.keyring.forget(owner(keyArn, backingKeyId));
  }

  return { newBackingKey, open, importedBackingKey, forget };
}

function owner(keyArn: string, backingKeyId: string): string {
  return `${keyArn}#${backingKeyId}`;
}

export type KeyMaterial = ReturnType<typeof createKeyMaterial>;
