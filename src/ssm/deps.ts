import type { Logger } from '../core/index.js';
import type { KmsPort } from '../kms/index.js';
import type { Authorizer } from '../policy/index.js';
import type { ParametersRepository } from '../store/index.js';
import type { SecretsReader } from './ports.js';

/** AWS's quotas, overridable for tests of the limits themselves. */
export type ParameterLimits = {
  /** Versions kept per parameter. */
  maxVersions: number;
  /** Standard parameters per account and Region. */
  maxStandardParameters: number;
  /** Labels per version. */
  maxLabels: number;
  /** Tags per parameter. */
  maxTags: number;
};

export const AWS_PARAMETER_LIMITS: ParameterLimits = { maxVersions: 100, maxStandardParameters: 10_000, maxLabels: 10, maxTags: 50 };

/** What Parameter Store needs: its repository, KMS only through the envelope port, the authorizer, and the secrets port. */
export type SsmDeps = {
  store: ParametersRepository;
  kms: KmsPort;
  authorizer: Authorizer;
  secrets: SecretsReader;
  logger: Logger;
  limits?: Partial<ParameterLimits>;
};
