import type { KmsDeps } from '../deps.js';
import { createKeyAccess } from '../key-access.js';
import { createKeyLookup } from '../key-lookup.js';
import { createKeyMaterial } from '../key-material.js';
import { createManagedKeys } from '../managed-keys.js';
import { createAliasOperations } from './aliases.js';
import { createCryptographyOperations } from './cryptography.js';
import { createGrantOperations } from './grants.js';
import { createKeyOperations } from './keys.js';
import { createPolicyOperations } from './policies.js';
import { createRotationOperations } from './rotation.js';
import { createSigningOperations } from './signing.js';
import { createTagOperations } from './tags.js';

/** Every KMS operation function, plus the scheduled rotation and managed-key creation used in-process. */
export function createKmsOperations(deps: KmsDeps) {
  const lookup = createKeyLookup(deps);
  const access = createKeyAccess(deps, lookup);
  const material = createKeyMaterial(deps);
  return {
    ...createKeyOperations(deps, access, material),
    ...createCryptographyOperations(lookup, access, material),
    ...createAliasOperations(deps, lookup, access),
    ...createRotationOperations(deps, access, material),
    ...createSigningOperations(deps, access, material),
    ...createTagOperations(deps, access),
    ...createPolicyOperations(deps, access),
    ...createGrantOperations(deps, lookup, access),
    ensureManagedKey: createManagedKeys(deps, material),
  };
}

export type KmsOperations = ReturnType<typeof createKmsOperations>;
