import type { AliasRecord, Page } from '../store/index.js';

/**
 * The `alias/aws/<service>` aliases ListAliases shows in every account and region even before their AWS managed
 * key exists: "The response might also include aliases that have no TargetKeyId field. These are predefined
 * aliases that AWS has created but has not yet associated with a KMS key."
 * https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html
 * AWS publishes no list of them; these are the services whose predefined alias a new account shows. Such an
 * entry carries AliasName and AliasArn only (no TargetKeyId, CreationDate or LastUpdatedDate): it has no key and
 * was never created by the caller. Once Coffer creates the managed key (alias/aws/secretsmanager on a secret's
 * first use, alias/aws/lambda) the stored alias is listed instead, with its key and dates.
 */
export const PREDEFINED_ALIASES: readonly string[] = [
  'alias/aws/acm',
  'alias/aws/dynamodb',
  'alias/aws/ebs',
  'alias/aws/elasticfilesystem',
  'alias/aws/es',
  'alias/aws/glue',
  'alias/aws/kinesis',
  'alias/aws/kinesisvideo',
  'alias/aws/lambda',
  'alias/aws/rds',
  'alias/aws/redshift',
  'alias/aws/s3',
  'alias/aws/secretsmanager',
  'alias/aws/sns',
  'alias/aws/sqs',
  'alias/aws/ssm',
  'alias/aws/xray',
].sort();

/** A listed alias: a stored one, or a predefined name without a key. */
export type ListedAlias = AliasRecord | { aliasName: string; predefined: true };

/**
 * One ListAliases page of the stored aliases and the predefined names no stored alias has, in name order.
 * `stored` is the store's page after `marker` (names > marker, at most `limit`). A predefined name beyond the last
 * stored name of a truncated store page waits for a later page, where the store will say whether it exists.
 */
export function mergePredefinedAliases(stored: Page<AliasRecord>, marker: string | undefined, limit: number): { items: ListedAlias[]; nextMarker?: string } {
  const storedNames = new Set(stored.items.map((alias) => alias.aliasName));
  const lastStored = stored.items.at(-1)?.aliasName;
  const predefined = PREDEFINED_ALIASES.filter(
    (name) => (marker === undefined || name > marker) && !storedNames.has(name) && (stored.nextMarker === undefined || (lastStored !== undefined && name < lastStored)),
  ).map((aliasName): ListedAlias => ({ aliasName, predefined: true }));
  const merged = [...stored.items, ...predefined].sort((a, b) => (a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0));
  const items = merged.slice(0, limit);
  const more = merged.length > limit || stored.nextMarker !== undefined;
  return { items, nextMarker: more && items.length > 0 ? items.at(-1)!.aliasName : undefined };
}
