import type { KmsDeps } from '../deps.js';
import { createEncryptionBudget } from '../encryption-budget.js';
import { createKeyAccess } from '../key-access.js';
import { createKeyLookup } from '../key-lookup.js';
import { createKeyMaterial } from '../key-material.js';
import { createManagedKeys } from '../managed-keys.js';
import { createSymmetricCiphertexts } from '../symmetric-ciphertext.js';
import { createAliasOperations } from './aliases.js';
import { createAsymmetricEncryption } from './asymmetric-encryption.js';
import { createCryptographyOperations } from './cryptography.js';
import { createCustomKeyStoreOperations } from './custom-key-stores.js';
import { createDataKeyPairOperations } from './data-key-pairs.js';
import { createGrantOperations } from './grants.js';
import { createImportOperations } from './import.js';
import { createKeyAgreementOperations } from './key-agreement.js';
import { createKeyLastUsageOperations } from './key-last-usage.js';
import { createKeyOperations } from './keys.js';
import { createMacOperations } from './mac.js';
import { createMultiRegionOperations } from './multi-region.js';
import { createPolicyOperations } from './policies.js';
import { createRotationOperations } from './rotation.js';
import { createSigningOperations } from './signing.js';
import { createTagOperations } from './tags.js';

/** Every KMS operation function, plus the scheduled rotation and managed-key creation used in-process. */
export function createKmsOperations(deps: KmsDeps) {
  const lookup = createKeyLookup(deps);
  const access = createKeyAccess(deps, lookup);
  const material = createKeyMaterial(deps);
  const ciphertexts = createSymmetricCiphertexts(material, createEncryptionBudget(deps, material, deps.encryptionBudget));
  return {
    ...createKeyOperations(deps, access, material),
    ...createCryptographyOperations(lookup, access, material, ciphertexts, createAsymmetricEncryption(material)),
    ...createMacOperations(access, material),
    ...createKeyAgreementOperations(access, material),
    ...createDataKeyPairOperations(access, ciphertexts),
    ...createAliasOperations(deps, lookup, access),
    ...createRotationOperations(deps, access, material),
    ...createSigningOperations(deps, access, material),
    ...createTagOperations(deps, access),
    ...createPolicyOperations(deps, access),
    ...createGrantOperations(deps, lookup, access),
    ...createMultiRegionOperations(deps, access, material),
    ...createKeyLastUsageOperations(deps, access),
    ...createCustomKeyStoreOperations(),
    ...createImportOperations(deps, access, material),
    ensureManagedKey: createManagedKeys(deps, material),
  };
}

export type KmsOperations = ReturnType<typeof createKmsOperations>;
