import type { SecretsDeps } from '../deps.js';
import { createSecretAccess } from '../secret-access.js';
import { createSecretLookup } from '../secret-lookup.js';
import { createSecretValues } from '../secret-values.js';
import { createVersionWriter } from '../version-writer.js';
import { createLifecycleOperations } from './lifecycle.js';
import { createListingOperations } from './listing.js';
import { getRandomPassword } from './password.js';
import { createPolicyOperations } from './policies.js';
import { createRotationOperations } from './rotation.js';
import { createTaggingOperations } from './tagging.js';
import { createValueOperations } from './values.js';
import { createVersionOperations } from './versions.js';

export function createSecretsOperations(deps: SecretsDeps) {
  const access = createSecretAccess(deps, createSecretLookup(deps));
  const values = createSecretValues(deps);
  const writeVersion = createVersionWriter(deps, values);
  return {
    ...createLifecycleOperations(deps, access, values, writeVersion),
    ...createValueOperations(deps, access, values, writeVersion),
    ...createVersionOperations(deps, access),
    ...createListingOperations(deps),
    ...createTaggingOperations(deps, access),
    ...createRotationOperations(deps, access),
    ...createPolicyOperations(deps, access),
    getRandomPassword,
  };
}

export type SecretsOperations = ReturnType<typeof createSecretsOperations>;
