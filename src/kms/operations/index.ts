import type { KmsDeps } from '../deps.js';
import { createKeyLookup } from '../key-lookup.js';
import { createKeyMaterial } from '../key-material.js';
import { createManagedKeys } from '../managed-keys.js';
import { createAliasOperations } from './aliases.js';
import { createCryptographyOperations } from './cryptography.js';
import { createKeyOperations } from './keys.js';
import { createPolicyOperations } from './policies.js';
import { createRotationOperations } from './rotation.js';
import { createTagOperations } from './tags.js';

/** Every KMS operation function, plus the scheduled rotation and managed-key creation used in-process. */
export function createKmsOperations(deps: KmsDeps) {
  const lookup = createKeyLookup(deps);
  const material = createKeyMaterial(deps);
  return {
    ...createKeyOperations(deps, lookup, material),
    ...createCryptographyOperations(lookup, material),
    ...createAliasOperations(deps, lookup),
    ...createRotationOperations(deps, lookup, material),
    ...createTagOperations(deps, lookup),
    ...createPolicyOperations(deps, lookup),
    ensureManagedKey: createManagedKeys(deps, material),
  };
}

export type KmsOperations = ReturnType<typeof createKmsOperations>;
