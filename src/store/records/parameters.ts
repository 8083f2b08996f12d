import type { Tag } from './common.js';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

/** A SecureString value as stored: the data key KMS encrypted, and the value sealed with it. */
export type SealedParameterValue = { encryptedDataKey: Buffer; sealedValue: Buffer };

/**
 * One version of an SSM parameter with the attributes it was written with (GetParameterHistory shows each
 * version's own). A String/StringList value is in `value`; a SecureString's only in `sealed`, never in clear.
 */
export type ParameterVersionRecord = {
  accountId: string;
  region: string;
  name: string;
  version: number;
  type: ParameterType;
  value?: string;
  sealed?: SealedParameterValue;
  /** The KMS key ARN a SecureString's data key was encrypted under. */
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  dataType: string;
  tier: string;
  /** The parameter policies as the JSON text of AWS's list (Advanced tier only). */
  policies?: string;
  labels: string[];
  lastModifiedDate: Date;
  lastModifiedUser: string;
};

/** A version as read with its parameter: when the parameter expires (its Expiration policy), if it does. */
export type StoredParameter = ParameterVersionRecord & { expiresAt?: Date };

/** What PutParameter writes: a new version (numbered by the store), and on creation the parameter's tags. */
export type ParameterWrite = Omit<ParameterVersionRecord, 'version' | 'labels'> & { tags: Tag[]; expiresAt?: Date };

export type ParameterWriteLimits = {
  overwrite: boolean;
  /** Versions kept per parameter (AWS: 100); the oldest goes when a new one would pass it. */
  maxVersions: number;
  /** Standard-tier parameters per account and Region (AWS: 10,000), checked when one is created. */
  maxStandardParameters: number;
};

export type ParameterWriteOutcome =
  | { kind: 'written'; version: number }
  | { kind: 'exists' }
  /** The oldest version has a label, so it is not dropped (ParameterMaxVersionLimitExceeded). */
  | { kind: 'oldest-version-labelled' }
  | { kind: 'parameter-limit' };

/** Which version a read wants: the latest, a version number, or the version a label is on. */
export type ParameterSelector = { version?: number; label?: string };

export type ParameterListQuery = {
  /** Names starting with this (a path ending in `/`), or every parameter when undefined. */
  prefix?: string;
  /** With a prefix: false keeps only names with no further `/` after it (one level). */
  recursive: boolean;
  /** Names after this one (the page marker). */
  afterName?: string;
  limit: number;
};

export type ParameterLabelOutcome =
  | { kind: 'absent' }
  | { kind: 'version-absent' }
  | { kind: 'limit-exceeded' }
  | { kind: 'labelled'; version: number };
