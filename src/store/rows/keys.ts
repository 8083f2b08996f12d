/** Row -> record mapping of the KMS key tables, shared by the SQLite and PostgreSQL backends (same columns; booleans per backend). */
import { isMultiRegionKeyId, publicKeyId, type AliasRecord, type BackingKeyRecord, type KeyPatch, type KeyRecord, type RotationType } from '../records.js';
import { optionalDate, readBoolean, type BooleanColumns, type Row } from './values.js';

export const KEY_COLUMNS: Record<keyof KeyPatch, string> = {
  description: 'description',
  keyState: 'key_state',
  deletionDate: 'deletion_date',
  pendingWindowDays: 'pending_window_days',
  policy: 'policy',
  rotationEnabled: 'rotation_enabled',
  rotationPeriodDays: 'rotation_period_days',
  nextRotationDate: 'next_rotation_date',
};

export function keyFromRow(row: Row, booleans: BooleanColumns): KeyRecord {
  return {
    keyId: row.multi_region_key_id ?? row.key_id,
    accountId: row.account_id,
    region: row.region,
    arn: row.arn,
    description: row.description,
    keyUsage: row.key_usage,
    keySpec: row.key_spec,
    origin: row.origin,
    keyManager: row.key_manager,
    keyState: row.key_state,
    creationDate: new Date(row.creation_date),
    deletionDate: optionalDate(row.deletion_date),
    pendingWindowDays: row.pending_window_days ?? undefined,
    policy: row.policy,
    rotationEnabled: readBoolean(row.rotation_enabled, booleans),
    rotationPeriodDays: row.rotation_period_days ?? undefined,
    nextRotationDate: optionalDate(row.next_rotation_date),
    currentBackingKeyId: row.current_backing_key_id,
    ...(row.primary_region ? { primaryRegion: row.primary_region } : {}),
    validTo: optionalDate(row.valid_to),
    expirationModel: row.expiration_model ?? undefined,
    keyMaterialId: row.key_material_id ?? undefined,
  };
}

export function backingKeyFromRow(row: Row): BackingKeyRecord {
  return {
    keyId: row.key_id,
    backingKeyId: row.backing_key_id,
    sealedMaterial: row.sealed_material,
    createdAt: new Date(row.created_at),
    rotationType: (row.rotation_type ?? undefined) as RotationType | undefined,
  };
}

export function aliasFromRow(row: Row): AliasRecord {
  return {
    accountId: row.account_id,
    region: row.region,
    aliasName: row.alias_name,
    targetKeyId: publicKeyId(row.target_key_id),
    creationDate: new Date(row.creation_date),
    lastUpdatedDate: new Date(row.last_updated_date),
  };
}

/** The multi-Region columns of a new kms_keys row: the public `mrk-…` id and the primary's region; null for other keys. */
export function multiRegionColumns(key: KeyRecord): { multiRegionKeyId: string | null; primaryRegion: string | null } {
  return isMultiRegionKeyId(key.keyId) ? { multiRegionKeyId: key.keyId, primaryRegion: key.primaryRegion ?? key.region } : { multiRegionKeyId: null, primaryRegion: null };
}
