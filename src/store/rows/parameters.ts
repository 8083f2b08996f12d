import type { Tag } from '../records/common.js';
import type { ParameterType, ParameterVersionRecord, ParameterWrite, StoredParameter } from '../records/parameters.js';
import { optionalDate, type Row } from './values.js';

/** ssm_parameter_versions' columns in the order `parameterVersionRow` gives their values. */
export const PARAMETER_VERSION_COLUMNS =
  'account_id, region, name, version, type, value, encrypted_data_key, sealed_value, key_id, description, allowed_pattern, data_type, tier, policies, labels, last_modified_date, last_modified_user';

export function parameterVersionRow(write: ParameterWrite, version: number): unknown[] {
  return [
    write.accountId,
    write.region,
    write.name,
    version,
    write.type,
    write.value ?? null,
    write.sealed?.encryptedDataKey ?? null,
    write.sealed?.sealedValue ?? null,
    write.keyId ?? null,
    write.description ?? null,
    write.allowedPattern ?? null,
    write.dataType,
    write.tier,
    write.policies ?? null,
    '[]',
    write.lastModifiedDate.getTime(),
    write.lastModifiedUser,
  ];
}

export function parameterVersionFromRow(row: Row): ParameterVersionRecord {
  return {
    accountId: row.account_id,
    region: row.region,
    name: row.name,
    version: Number(row.version),
    type: row.type as ParameterType,
    value: row.value ?? undefined,
    sealed: row.sealed_value ? { encryptedDataKey: Buffer.from(row.encrypted_data_key), sealedValue: Buffer.from(row.sealed_value) } : undefined,
    keyId: row.key_id ?? undefined,
    description: row.description ?? undefined,
    allowedPattern: row.allowed_pattern ?? undefined,
    dataType: row.data_type,
    tier: row.tier,
    policies: row.policies ?? undefined,
    labels: JSON.parse(row.labels) as string[],
    lastModifiedDate: new Date(Number(row.last_modified_date)),
    lastModifiedUser: row.last_modified_user,
  };
}

/** A version row joined with its parameter's `expires_at`. */
export function storedParameterFromRow(row: Row): StoredParameter {
  const expiresAt = optionalDate(row.expires_at === null || row.expires_at === undefined ? undefined : Number(row.expires_at));
  return { ...parameterVersionFromRow(row), expiresAt };
}

/** The labels of one version after `labels` are put on it: each moved from its other versions. */
export function labelsAfterMove(current: string[], labels: string[]): string[] {
  return [...new Set([...current, ...labels])];
}

/** Tags merged by key, a new value replacing the old one; `limit-exceeded` past `maxTags`. */
export function mergedTags(current: Tag[], added: Tag[], maxTags: number): Tag[] | 'limit-exceeded' {
  const byKey = new Map(current.map((tag) => [tag.TagKey, tag.TagValue]));
  for (const tag of added) byKey.set(tag.TagKey, tag.TagValue);
  if (byKey.size > maxTags) return 'limit-exceeded';
  return [...byKey].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

/**
 * The upper bound of names under `prefix` for a range scan: every name starting with a prefix that ends in `/`
 * sorts before the prefix with that `/` turned into `0` (the next byte), so `name >= prefix AND name < upper`
 * uses the primary key's order.
 */
export function prefixUpperBound(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** The `limit + 1`-row page cut: the marker is the last name shown when more rows were found. */
export function parameterPage(rows: StoredParameter[], limit: number): { items: StoredParameter[]; nextMarker?: string } {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextMarker: items[items.length - 1]!.name };
}
