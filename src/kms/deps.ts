import type { Keyring } from '../crypto/index.js';
import type { Logger } from '../core/index.js';
import type { Store } from '../store/index.js';

/** What the KMS service needs from the rest of Coffer, narrowed to the store methods it calls. */
export type KmsDeps = {
  store: Pick<
    Store,
    | 'createKey'
    | 'getKey'
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
  >;
  keyring: Keyring;
  logger: Logger;
};
