/** Row <-> record mapping of the secrets tables, shared by the SQLite and PostgreSQL backends (same columns; booleans per backend). */
import type { ReplicationStatus, RotationRules, SecretPatch, SecretRecord, SecretReplicaRecord, SecretRotation, SecretValueType, SecretVersionRecord, VersionDataKey } from '../records.js';
import { optionalDate, optionalSharedText, readBoolean, sharedDate, sharedText, writeBoolean, type BooleanColumns, type Row } from './values.js';

export const SECRET_COLUMNS: Record<keyof SecretPatch, string> = {
  description: 'description',
  kmsKeyId: 'kms_key_id',
  lastChangedDate: 'last_changed_date',
};

export function secretFromRow(row: Row, booleans: BooleanColumns): SecretRecord {
  return {
    arn: row.arn,
    accountId: sharedText(row.account_id),
    region: sharedText(row.region),
    name: row.name,
    description: row.description ?? undefined,
    kmsKeyId: optionalSharedText(row.kms_key_id),
    createdDate: sharedDate(row.created_date),
    lastChangedDate: sharedDate(row.last_changed_date),
    lastAccessedDate: optionalDate(row.last_accessed_date),
    deletedDate: optionalDate(row.deleted_date),
    scheduledDeletionDate: optionalDate(row.scheduled_deletion_date),
    owningService: row.owning_service ?? undefined,
    primaryRegion: sharedText(row.primary_region),
    resourcePolicy: row.resource_policy ?? undefined,
    ...rotationFromRow(row, booleans),
  };
}

export function rotationFromRow(row: Row, booleans: BooleanColumns): SecretRotation {
  return {
    rotationEnabled: readBoolean(row.rotation_enabled, booleans) ? true : row.rotation_lambda_arn ? false : undefined,
    rotationLambdaArn: row.rotation_lambda_arn ?? undefined,
    rotationRules: row.rotation_rules ? (JSON.parse(row.rotation_rules) as RotationRules) : undefined,
    lastRotatedDate: optionalDate(row.last_rotated_date),
    nextRotationDate: optionalDate(row.next_rotation_date),
    nextRotationWindowEnd: optionalDate(row.next_rotation_window_end),
  };
}

/** The rotation columns, in the order of the backends' UPDATE statements. */
export function rotationValues(rotation: SecretRotation, booleans: BooleanColumns): unknown[] {
  return [
    writeBoolean(rotation.rotationEnabled === true, booleans),
    rotation.rotationLambdaArn ?? null,
    rotation.rotationRules ? JSON.stringify(rotation.rotationRules) : null,
    rotation.lastRotatedDate?.getTime() ?? null,
    rotation.nextRotationDate?.getTime() ?? null,
    rotation.nextRotationWindowEnd?.getTime() ?? null,
  ];
}

export function versionFromRow(row: Row, stages: string[]): SecretVersionRecord {
  return {
    secretArn: row.secret_arn,
    versionId: row.version_id,
    dataKeys: decodeDataKeys(row.data_keys),
    sealedValue: row.sealed_value === null || row.sealed_value === undefined ? undefined : unshared(row.sealed_value),
    valueType: row.value_type as SecretValueType,
    createdDate: sharedDate(row.created_date),
    lastAccessedDate: optionalDate(row.last_accessed_date),
    stages: sharedStages(stages),
  };
}

/** The stage labels with their texts shared (most versions carry AWSCURRENT or AWSPREVIOUS), in the array given. */
function sharedStages(stages: string[]): string[] {
  for (let index = 0; index < stages.length; index += 1) stages[index] = sharedText(stages[index]!);
  return stages;
}

export function encodeDataKeys(dataKeys: VersionDataKey[]): string {
  return JSON.stringify(dataKeys.map((key) => ({ ...key, encryptedDataKey: key.encryptedDataKey.toString('base64') })));
}

export function decodeDataKeys(text: string): VersionDataKey[] {
  const parsed = JSON.parse(text) as Array<{ kmsKeyArn: string; encryptedDataKey: string; defaultKey: boolean }>;
  return parsed.map((key) => ({ ...key, kmsKeyArn: sharedText(key.kmsKeyArn), encryptedDataKey: ownBytes(key.encryptedDataKey) }));
}

/**
 * Base64 as a Buffer of its own, not a slice of Node's shared pool (what Buffer.from gives a short text; 64 KB slabs
 * on this Node): the read cache keeps a version for as long as it stays, and a slice keeps its whole slab alive with
 * it, the slab shared with other requests' short-lived Buffers. 10,000 versions cached (100,000 secrets, 15,000 random reads, in
 * process): external memory 23.4 MB with slices, 15.4 with these, for 0.9 MB of data keys (bench/RESULTS.md,
 * rss-bound; core/shapes.ts decodeBase64 does the same for a blob).
 */
function ownBytes(base64: string): Buffer {
  const own = Buffer.allocUnsafeSlow(Buffer.byteLength(base64, 'base64'));
  own.write(base64, 'base64');
  return own;
}

/**
 * A driver's Buffer, copied when it is a slice of a larger one (PostgreSQL's driver decodes a short bytea with
 * Buffer.from, a slice of Node's pool: see ownBytes); better-sqlite3's BLOBs have their own memory and are kept.
 */
function unshared(bytes: Buffer): Buffer {
  if (bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  bytes.copy(own);
  return own;
}

export function groupBy(rows: Row[]): Map<string, Row[]> {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const group = groups.get(row.secret_arn);
    if (group) group.push(row);
    else groups.set(row.secret_arn, [row]);
  }
  return groups;
}

export function stagesByVersion(rows: Row[]): Record<string, string[]> {
  const stages: Record<string, string[]> = {};
  for (const row of rows) (stages[row.version_id] ??= []).push(row.stage);
  return stages;
}

/** A secret_replicas row, with the replica secret's last_accessed_date as `replica_last_accessed_date` (may be null). */
export function replicaFromRow(row: Row, booleans: BooleanColumns): SecretReplicaRecord {
  return {
    primaryArn: row.primary_arn,
    region: row.region,
    replicaArn: row.replica_arn,
    kmsKeyId: row.kms_key_id ?? undefined,
    status: row.status as ReplicationStatus,
    statusMessage: row.status_message ?? undefined,
    forceOverwrite: readBoolean(row.force_overwrite, booleans),
    generation: Number(row.generation),
    lastAccessedDate: optionalDate(row.replica_last_accessed_date),
  };
}

/** The replica rows with their replica's LastAccessedDate (only while that secret is still this primary's replica). */
export const REPLICA_SELECT = `SELECT r.*, s.last_accessed_date AS replica_last_accessed_date FROM secret_replicas r
  LEFT JOIN secrets s ON s.arn = r.replica_arn AND s.primary_region <> s.region`;
