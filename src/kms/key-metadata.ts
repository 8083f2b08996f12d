import type { KeyRecord } from '../store/index.js';
import { keyMaterialIdOf } from './key-material-id.js';
import { algorithmsOf, customerMasterKeySpec } from './key-specs.js';

/**
 * The KeyMetadata structure of CreateKey and DescribeKey. https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html
 * `multiRegionConfiguration` is given for a multi-Region key (operations/multi-region.ts describedKeyMetadata).
 */
export function keyMetadata(key: KeyRecord, multiRegionConfiguration?: object) {
  const algorithms = algorithmsOf(key.keySpec, key.keyUsage);
  return {
    AWSAccountId: key.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.creationDate,
    Enabled: key.keyState === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.keyState,
    DeletionDate: key.deletionDate,
    PendingDeletionWindowInDays: key.keyState === 'PendingDeletion' ? key.pendingWindowDays : undefined,
    Origin: key.origin,
    // Imported material (Origin EXTERNAL): shown while the key has material, as AWS shows them after an import.
    ExpirationModel: key.expirationModel,
    ValidTo: key.expirationModel === 'KEY_MATERIAL_EXPIRES' ? key.validTo : undefined,
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: customerMasterKeySpec(key.keySpec),
    KeySpec: key.keySpec,
    // Each list appears only for its key usage (key-specs.ts).
    EncryptionAlgorithms: algorithms.encryption,
    SigningAlgorithms: algorithms.signing,
    KeyAgreementAlgorithms: algorithms.keyAgreement,
    MacAlgorithms: algorithms.mac,
    MultiRegion: key.primaryRegion !== undefined,
    MultiRegionConfiguration: multiRegionConfiguration,
    CurrentKeyMaterialId: keyMaterialIdOf(key, key.currentBackingKeyId),
  };
}
