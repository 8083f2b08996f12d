import { randomUUID } from 'node:crypto';
import { keyStoreId, type BackingKeyRecord, type KeyRecord, type RotationType } from '../store/index.js';
import type { KmsDeps } from './deps.js';
import { kmsError } from './errors.js';

/**
 * Backing keys: the material behind a KMS key, sealed under the root key and bound to "<key ARN>#<backing key id>",
 * so a row moved to another key does not open. A symmetric encryption key has one per rotation (AES-256); an
 * HMAC key's is its HMAC key, an asymmetric key's its private key as PKCS#8 DER (key-pairs.ts), one each.
 */
export function createKeyMaterial(deps: Pick<KmsDeps, 'store' | 'keyring' | 'logger'>) {
  /** One backing key row: `material` sealed for the key's ARN and that backing key id. */
  function sealed(keyArn: string, keyId: string, backingKeyId: string, material: Buffer, createdAt: Date, rotationType?: RotationType): BackingKeyRecord {
    return { keyId, backingKeyId, sealedMaterial: deps.keyring.seal(material, backingKeyOwner(keyArn, backingKeyId)), createdAt, rotationType };
  }

  /** Seals `material` (made by key-pairs.ts generateKeyMaterial) as a new backing key, and zeroes it. */
  function newBackingKey(keyArn: string, keyId: string, createdAt: Date, material: Buffer, rotationType?: RotationType): BackingKeyRecord {
    try {
      return sealed(keyArn, keyId, randomUUID(), material, createdAt, rotationType);
    } finally {
      material.fill(0);
    }
  }

  /**
   * One new backing key for every member of a multi-Region key (primary first): the same material and backing key
   * id, sealed for each member's own ARN and stored under its store id, so a ciphertext made in one Region opens in
   * the others.
   */
  function newBackingKeys(members: readonly KeyRecord[], createdAt: Date, material: Buffer, rotationType?: RotationType): BackingKeyRecord[] {
    const backingKeyId = randomUUID();
    try {
      return members.map((member) => sealed(member.arn, keyStoreId(member), backingKeyId, material, createdAt, rotationType));
    } finally {
      material.fill(0);
    }
  }

  /**
   * The backing keys of `source` for a new replica: each one's material, whatever it is, sealed again for the
   * replica's ARN under the same backing key id; every other field of the row is kept.
   */
  async function resealAll(source: KeyRecord, replica: KeyRecord): Promise<BackingKeyRecord[]> {
    const resealed: BackingKeyRecord[] = [];
    for (const backing of await deps.store.listBackingKeys(keyStoreId(source))) {
      // The keyring keeps opened material cached: it is not ours to zero.
      const material = openRow(source, backing);
      resealed.push(sealed(replica.arn, keyStoreId(replica), backing.backingKeyId, material, backing.createdAt, backing.rotationType));
    }
    return resealed;
  }

  function openRow(key: KeyRecord, backing: BackingKeyRecord): Buffer {
    const material = deps.keyring.open(backing.sealedMaterial, backingKeyOwner(key.arn, backing.backingKeyId));
    if (!material) {
      // The row does not open under this root key and owner: the database was altered or mixed up.
      deps.logger.error('backing key failed to open', { keyId: key.keyId, backingKeyId: backing.backingKeyId });
      throw kmsError('KMSInternalException', 'The key material could not be read.');
    }
    return material;
  }

  /**
   * Opens the material of one backing key; undefined when the key never had that backing key. Backing keys are
   * never rewritten, so material opened once for this owner is the row's material: the store read is needed only
   * the first time (the key record itself, its state and policy, is read per call). When this process has opened
   * it before, the answer is the material itself, not a promise: every Decrypt asks, and awaiting costs a turn.
   */
  function open(key: KeyRecord, backingKeyId: string): Buffer | Promise<Buffer | undefined> {
    return deps.keyring.cached(backingKeyOwner(key.arn, backingKeyId)) ?? openStored(key, backingKeyId);
  }

  async function openStored(key: KeyRecord, backingKeyId: string): Promise<Buffer | undefined> {
    const backing = await deps.store.getBackingKey(keyStoreId(key), backingKeyId);
    return backing && openRow(key, backing);
  }

  /**
   * The backing key for imported material: its id is derived from the material (import.ts), so the same
   * material imported again gets the same id and the ciphertexts made before decrypt again.
   */
  function importedBackingKey(keyArn: string, keyId: string, backingKeyId: string, material: Buffer, createdAt: Date): BackingKeyRecord {
    return sealed(keyArn, keyId, backingKeyId, material, createdAt);
  }

  /** Drops this process's cached copy of a backing key's material (its row was deleted). */
  function forget(keyArn: string, backingKeyId: string): void {
    deps.keyring.forget(backingKeyOwner(keyArn, backingKeyId));
  }

  return { newBackingKey, newBackingKeys, resealAll, open, importedBackingKey, forget };
}

/** The AAD owner a backing key's material is sealed for (a rekey re-wraps each row for the same owner). */
export function backingKeyOwner(keyArn: string, backingKeyId: string): string {
  return `${keyArn}#${backingKeyId}`;
}

export type KeyMaterial = ReturnType<typeof createKeyMaterial>;
