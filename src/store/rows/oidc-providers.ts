/** Row <-> record mapping of iam_oidc_providers, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { IamTag, OidcProviderRecord } from '../records.js';
import type { Row } from './values.js';

export function oidcProviderFromRow(row: Row): OidcProviderRecord {
  return {
    accountId: row.account_id,
    arn: row.arn,
    url: row.url,
    clientIds: JSON.parse(row.client_ids) as string[],
    thumbprints: JSON.parse(row.thumbprints) as string[],
    tags: JSON.parse(row.tags) as IamTag[],
    jwks: row.jwks ?? undefined,
    createdAt: new Date(row.created_at),
  };
}

/** The column values of a new row, in the order of OIDC_PROVIDER_COLUMNS. */
export function oidcProviderRow(record: OidcProviderRecord): unknown[] {
  return [
    record.accountId, record.arn, record.url, JSON.stringify(record.clientIds), JSON.stringify(record.thumbprints),
    JSON.stringify(record.tags), record.jwks ?? null, record.createdAt.getTime(),
  ];
}

export const OIDC_PROVIDER_COLUMNS = 'account_id, arn, url, client_ids, thumbprints, tags, jwks, created_at';

/** Pure list edits each backend applies to a row it read inside its transaction. */
export const oidcProviderEdits = {
  addClientId(row: Row, clientId: string, max: number): string[] | 'limit-exceeded' {
    const ids = JSON.parse(row.client_ids) as string[];
    if (ids.includes(clientId)) return ids;
    return ids.length >= max ? 'limit-exceeded' : [...ids, clientId];
  },
  removeClientId(row: Row, clientId: string): string[] {
    return (JSON.parse(row.client_ids) as string[]).filter((id) => id !== clientId);
  },
  tag(row: Row, tags: IamTag[], max: number): IamTag[] | 'limit-exceeded' {
    const merged = new Map((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
    for (const tag of tags) merged.set(tag.Key, tag.Value);
    return merged.size > max ? 'limit-exceeded' : [...merged].map(([Key, Value]) => ({ Key, Value }));
  },
  untag(row: Row, tagKeys: string[]): IamTag[] {
    return (JSON.parse(row.tags) as IamTag[]).filter((tag) => !tagKeys.includes(tag.Key));
  },
};
