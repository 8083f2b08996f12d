/**
 * What KMS keeps: keys, backing keys, aliases, grants.
 * Domain records, not rows (see ../records.ts).
 */

/** https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html */
export const KEY_STATES = [
  'Creating',
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'PendingImport',
  'PendingReplicaDeletion',
  'Unavailable',
  'Updating',
] as const;
export type KeyState = (typeof KEY_STATES)[number];

export type KeyRecord = {
  keyId: string;
  accountId: string;
  region: string;
  arn: string;
  description: string;
  keyUsage: string;
  keySpec: string;
  origin: string;
  keyManager: 'CUSTOMER' | 'AWS';
  keyState: KeyState;
  creationDate: Date;
  /** Set while PendingDeletion: when the key is destroyed. */
  deletionDate?: Date;
  pendingWindowDays?: number;
  policy: string;
  rotationEnabled: boolean;
  rotationPeriodDays?: number;
  nextRotationDate?: Date;
  /**
   * The backing key that seals new ciphertexts; older ones stay for Decrypt. Empty for a key of imported
   * material (Origin EXTERNAL) that has none: never imported, deleted or expired.
   */
  currentBackingKeyId: string;
  /**
   * Set on every member of a multi-Region key (key id `mrk-…`): the Region of its primary key. The member whose
   * `region` equals it is the primary; the others are its replicas. Absent for single-Region keys.
   */
  primaryRegion?: string;
  /** Imported material: when it expires (ExpirationModel KEY_MATERIAL_EXPIRES); absent while there is none. */
  validTo?: Date;
  /** Imported material: KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE; absent while there is none. */
  expirationModel?: ExpirationModel;
  /**
   * Imported material: its KeyMaterialId, an HMAC of the material (never the material), kept after the material
   * is deleted or expires, so a re-import of different material is refused without having the old one.
   */
  keyMaterialId?: string;
};

export type ExpirationModel = 'KEY_MATERIAL_EXPIRES' | 'KEY_MATERIAL_DOES_NOT_EXPIRE';

/** What ImportKeyMaterial records on the key beside its backing key. */
export type ImportedMaterial = {
  keyMaterialId: string;
  expirationModel: ExpirationModel;
  validTo?: Date;
};

/**
 * The id a key's rows are stored under (kms_keys.key_id, and the key id of its backing keys, tags and grants).
 * A single-Region key is stored under its key id. The members of a multi-Region key share one public key id
 * (`mrk-…`) in several Regions, so each is stored under `<key id>/<region>`; no row is ever stored under a bare
 * `mrk-…` id, so a method handed the public id of a multi-Region key finds nothing rather than another Region's key.
 */
export function keyStoreId(key: { readonly keyId: string; readonly region: string }): string {
  return isMultiRegionKeyId(key.keyId) ? `${key.keyId}/${key.region}` : key.keyId;
}

/** The public key id of a stored key id (keyStoreId's inverse). */
export function publicKeyId(storeId: string): string {
  const slash = storeId.indexOf('/');
  return slash === -1 ? storeId : storeId.slice(0, slash);
}

/** Multi-Region key ids are `mrk-` and 32 lower-case hex digits, AWS's form. */
export function isMultiRegionKeyId(keyId: string): boolean {
  return keyId.startsWith('mrk-');
}

/**
 * Thrown by a store write on a multi-Region key when the set it was prepared for changed meanwhile (a replica was
 * added or removed while a rotation was sealed for the old set). Nothing was written; the caller prepares again.
 */
export class MultiRegionKeyChangedError extends Error {
  constructor() {
    super('the members of the multi-Region key changed during the write');
  }
}

/** Fields an operation may change on an existing key. */
export type KeyPatch = Partial<
  Pick<
    KeyRecord,
    | 'description'
    | 'keyState'
    | 'deletionDate'
    | 'pendingWindowDays'
    | 'policy'
    | 'rotationEnabled'
    | 'rotationPeriodDays'
    | 'nextRotationDate'
  >
>;

export type RotationType = 'AUTOMATIC' | 'ON_DEMAND';

export type BackingKeyRecord = {
  /** The key's store id (keyStoreId): a replica's backing keys are its own rows, sealed for its own ARN. */
  keyId: string;
  backingKeyId: string;
  /** Key material sealed under the root key, bound to key ARN + backing key id. */
  sealedMaterial: Buffer;
  createdAt: Date;
  /** Absent for the material the key was created with. */
  rotationType?: RotationType;
};

export type AliasRecord = {
  accountId: string;
  region: string;
  aliasName: string;
  targetKeyId: string;
  creationDate: Date;
  lastUpdatedDate: Date;
};

/** A grant's encryption-context constraints, as CreateGrant's Constraints structure holds them. */
export type GrantConstraints = {
  EncryptionContextSubset?: Record<string, string>;
  EncryptionContextEquals?: Record<string, string>;
};

/** A KMS grant: lets its grantee use the key for the listed operations. Dies with its key. */
export type GrantRecord = {
  grantId: string;
  /** The key's store id (keyStoreId): a grant belongs to one member of a multi-Region key. */
  keyId: string;
  keyArn: string;
  name?: string;
  granteePrincipal: string;
  retiringPrincipal?: string;
  /** The root ARN of the account that issued the grant (the key's account). */
  issuingAccount: string;
  operations: string[];
  constraints?: GrantConstraints;
  creationDate: Date;
  /**
   * The grant's parameters in one canonical string: a named CreateGrant retried with identical parameters
   * finds the grant it made (insert-or-get on key, name and fingerprint).
   */
  fingerprint: string;
};
