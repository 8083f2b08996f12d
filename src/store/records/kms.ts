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
