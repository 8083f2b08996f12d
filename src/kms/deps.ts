import type { Keyring } from '../crypto/index.js';
import type { Logger } from '../core/index.js';
import type { Authorizer, CompiledPolicyCache } from '../policy/index.js';
import type { Store } from '../store/index.js';

/** What the KMS service needs from the rest of Coffer, narrowed to the store methods it calls. */
export type KmsDeps = {
  store: Pick<
    Store,
    | 'createKey'
    | 'getKey'
    | 'getKeyById'
    | 'listKeys'
    | 'updateKey'
    | 'rotateKeyOnDemand'
    | 'rotateKeyOnSchedule'
    | 'getBackingKey'
    | 'listBackingKeys'
    | 'listKeysDueForDeletion'
    | 'listKeysDueForRotation'
    | 'destroyKey'
    | 'putKeyTags'
    | 'removeKeyTags'
    | 'listKeyTags'
    | 'createAlias'
    | 'updateAlias'
    | 'deleteAlias'
    | 'getAlias'
    | 'listAliases'
    | 'createManagedKey'
    | 'createGrant'
    | 'getGrant'
    | 'listGrants'
    | 'listRetirableGrants'
    | 'listGrantsForGrantee'
    | 'deleteGrant'
    | 'getIamUser'
    | 'getIamRole'
  >;
  keyring: Keyring;
  logger: Logger;
  /** Decides every key operation against the key policy, grants and the caller's identity policies. */
  authorizer: Authorizer;
  /** Key policies compiled once per distinct text; shared with the rest of the server. */
  compiledPolicies: CompiledPolicyCache;
};
