import type { Keyring } from '../crypto/index.js';
import type { Logger } from '../core/index.js';
import type { Authorizer, CompiledPolicyCache } from '../policy/index.js';
import type { IamRepository, KmsRepository } from '../store/index.js';

/** What the KMS service needs from the rest of Coffer, typed with the repositories it uses. */
export type KmsDeps = {
  /**
   * Its own repository, and IAM users and roles (a key policy's principals must exist): a side door into
   * IAM's data, to become a port of iam's.
   */
  store: KmsRepository & Pick<IamRepository, 'getIamUser' | 'getIamRole'>;
  keyring: Keyring;
  logger: Logger;
  /** Decides every key operation against the key policy, grants and the caller's identity policies. */
  authorizer: Authorizer;
  /** Key policies compiled once per distinct text; shared with the rest of the server. */
  compiledPolicies: CompiledPolicyCache;
};
