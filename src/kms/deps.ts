import type { Keyring } from '../crypto/index.js';
import type { Logger } from '../core/index.js';
import type { EncryptionBudgetOptions } from './encryption-budget.js';
import type { Authorizer, CompiledPolicyCache } from '../policy/index.js';
import type { KmsRepository } from '../store/index.js';
import type { IamPrincipalDirectory, KeyUsageLog } from './ports.js';

/** What the KMS service needs from the rest of Coffer, typed with the repositories it uses. */
export type KmsDeps = {
  store: KmsRepository;
  /** IAM's answer to whether a key policy's users and roles exist (iam implements it). */
  principals: IamPrincipalDirectory;
  /** The audit log's record of each key's successful cryptographic operations (GetKeyLastUsage). */
  keyUsage: KeyUsageLog;
  keyring: Keyring;
  logger: Logger;
  /** Decides every key operation against the key policy, grants and the caller's identity policies. */
  authorizer: Authorizer;
  /** Key policies compiled once per distinct text; shared with the rest of the server. */
  compiledPolicies: CompiledPolicyCache;
  /** The kms-digest addon's file (crypto/digest-signing.ts); by default it is found beside the package. */
  kmsDigestAddon?: string;
  /** When a symmetric key's current backing key is replaced for its encryption count (encryption-budget.ts). */
  encryptionBudget?: EncryptionBudgetOptions;
};
