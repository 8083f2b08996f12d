import type { Keyring } from '../crypto/index.js';
import type { Clock, Logger } from '../core/index.js';
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

/** Configuration of the encryption budget (encryption-budget.ts); every member has a default there. */
export type EncryptionBudgetOptions = {
  /** Encryptions under one backing key before a new one is made current (default 2^30). */
  encryptionsPerBackingKey?: number;
  /** Encryptions reserved per store write (default 4096). */
  reservationBlock?: number;
  /** Dates the backing keys it makes (default the system clock). */
  clock?: Clock;
};
