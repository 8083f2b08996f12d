import type { Logger } from '../core/index.js';
import type { KmsPort } from '../kms/index.js';
import type { Authorizer, CompiledPolicyCache } from '../policy/index.js';
import type { SecretsRepository } from '../store/index.js';
import type { RotationStarter } from './ports.js';

/** What the Secrets Manager service needs: its repository, KMS only through the envelope port, and the authorizer. */
export type SecretsDeps = {
  store: SecretsRepository;
  kms: KmsPort;
  /** Decides every call on a secret with the caller's policies and the secret's resource policy. */
  authorizer: Authorizer;
  /** Compiles stored resource policies once per distinct text (shared with the identity side). */
  policies: Pick<CompiledPolicyCache, 'get'>;
  rotation: RotationStarter;
  logger: Logger;
};
