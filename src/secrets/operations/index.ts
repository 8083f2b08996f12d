import type { SecretsDeps } from '../deps.js';
import { createSecretLookup } from '../secret-lookup.js';
import { createSecretValues } from '../secret-values.js';
import { createVersionWriter } from '../version-writer.js';
import { createLifecycleOperations } from './lifecycle.js';
import { createListingOperations } from './listing.js';
import { getRandomPassword } from './password.js';
import { createRotationOperations } from './rotation.js';
import { createTaggingOperations } from './tagging.js';
import { createValueOperations } from './values.js';
import { createVersionOperations } from './versions.js';

export function createSecretsOperations(deps: SecretsDeps) {
  const lookup = createSecretLookup(deps);
  const values = createSecretValues(deps);
  const writeVersion = createVersionWriter(deps, values);
  return {
    ...createLifecycleOperations(deps, lookup, values, writeVersion),
    ...createValueOperations(deps, lookup, values, writeVersion),
    ...createVersionOperations(deps, lookup),
    ...createListingOperations(deps),
    ...createTaggingOperations(deps, lookup),
    ...createRotationOperations(deps, lookup),
    getRandomPassword,
  };
}

export type SecretsOperations = ReturnType<typeof createSecretsOperations>;
