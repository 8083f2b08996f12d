import type { Page, Tag } from '../records/common.js';
import type {
  ParameterLabelOutcome,
  ParameterListQuery,
  ParameterSelector,
  ParameterVersionRecord,
  ParameterWrite,
  ParameterWriteLimits,
  ParameterWriteOutcome,
  StoredParameter,
} from '../records/parameters.js';

/**
 * SSM Parameter Store: parameters per account and Region, keyed by name, each with its versions (at most
 * `maxVersions` kept), their labels, and the parameter's tags. What the ssm module owns.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface ParametersRepository {
  /**
   * Writes a new version (1 for a new parameter, one past the latest otherwise) in one transaction: 'exists'
   * when the parameter exists and `overwrite` is false; the oldest version is dropped when the parameter has
   * `maxVersions` already, unless it carries a label. Tags are written only when the parameter is created.
   */
  putParameter(write: ParameterWrite, limits: ParameterWriteLimits): Promise<ParameterWriteOutcome>;
  getParameter(accountId: string, region: string, name: string, selector?: ParameterSelector): Promise<StoredParameter | undefined>;
  /** Every kept version, oldest first; empty when the parameter does not exist. */
  listParameterVersions(accountId: string, region: string, name: string): Promise<ParameterVersionRecord[]>;
  /** Latest versions in name order (byte order), `limit` per page; the marker is the last name shown. */
  listParameters(accountId: string, region: string, query: ParameterListQuery): Promise<Page<StoredParameter>>;
  deleteParameter(accountId: string, region: string, name: string): Promise<boolean>;
  /** Deletes every parameter (any account) whose Expiration has passed; returns their ARN-less keys for the audit. */
  deleteExpiredParameters(now: Date): Promise<Array<{ accountId: string; region: string; name: string }>>;
  /**
   * Puts labels on a version (the latest when `version` is undefined), moving each from any other version of
   * the parameter; 'limit-exceeded' when the version would carry more than `maxLabels`.
   */
  labelParameterVersion(
    accountId: string,
    region: string,
    name: string,
    version: number | undefined,
    labels: string[],
    maxLabels: number,
  ): Promise<ParameterLabelOutcome>;
  /** Removes labels from a version; returns the ones it carried (removed), or the reason it could not. */
  unlabelParameterVersion(
    accountId: string,
    region: string,
    name: string,
    version: number,
    labels: string[],
  ): Promise<{ kind: 'absent' } | { kind: 'version-absent' } | { kind: 'unlabelled'; removed: string[] }>;
  /** The parameter's tags; undefined when it does not exist. */
  getParameterTags(accountId: string, region: string, name: string): Promise<Tag[] | undefined>;
  /** Merges tags (same key: new value) unless the parameter would then have more than `maxTags`. */
  tagParameter(accountId: string, region: string, name: string, tags: Tag[], maxTags: number): Promise<'updated' | 'absent' | 'limit-exceeded'>;
  untagParameter(accountId: string, region: string, name: string, tagKeys: string[]): Promise<boolean>;
}
