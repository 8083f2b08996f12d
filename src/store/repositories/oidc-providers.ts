import type { IamTag } from '../records/iam.js';
import type { OidcProviderCreateOutcome, OidcProviderRecord, OidcProviderUpdateOutcome } from '../records/oidc-providers.js';

/**
 * IAM's OpenID Connect providers, per account, keyed by ARN: what iam's provider operations and
 * AssumeRoleWithWebIdentity read and write. Limits are checked inside the write's transaction.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface OidcProviderRepository {
  /** Inserts a provider unless its ARN exists ('exists') or the account has `maxPerAccount` already. */
  createOidcProvider(record: OidcProviderRecord, maxPerAccount: number): Promise<OidcProviderCreateOutcome>;
  getOidcProvider(accountId: string, arn: string): Promise<OidcProviderRecord | undefined>;
  /** The account's providers, ordered by ARN. */
  listOidcProviders(accountId: string): Promise<OidcProviderRecord[]>;
  deleteOidcProvider(accountId: string, arn: string): Promise<boolean>;
  /** Adds a client id (nothing if present) unless the provider would then have more than `maxClientIds`. */
  addOidcProviderClientId(accountId: string, arn: string, clientId: string, maxClientIds: number): Promise<OidcProviderUpdateOutcome>;
  /** Removes a client id (nothing if absent); false when the provider does not exist. */
  removeOidcProviderClientId(accountId: string, arn: string, clientId: string): Promise<boolean>;
  /** Replaces the thumbprint list; false when the provider does not exist. */
  setOidcProviderThumbprints(accountId: string, arn: string, thumbprints: string[]): Promise<boolean>;
  /** Merges tags unless the provider would then have more than `maxTags`. */
  tagOidcProvider(accountId: string, arn: string, tags: IamTag[], maxTags: number): Promise<OidcProviderUpdateOutcome>;
  untagOidcProvider(accountId: string, arn: string, tagKeys: string[]): Promise<boolean>;
  /** Stores (or with undefined, removes) the provider's hand-given JWKS; false when the provider does not exist. */
  setOidcProviderJwks(accountId: string, arn: string, jwks: string | undefined): Promise<boolean>;
}
