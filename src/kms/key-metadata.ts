import type { KeyRecord } from '../store/index.js';

/**
 * The KeyMetadata structure of CreateKey and DescribeKey. https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html
 * `multiRegionConfiguration` is given for a multi-Region key (operations/multi-region.ts describedKeyMetadata).
 */
export function keyMetadata(key: KeyRecord, multiRegionConfiguration?: object) {
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
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: key.keyUsage === 'ENCRYPT_DECRYPT' ? ['SYMMETRIC_DEFAULT'] : undefined,
    MultiRegion: key.primaryRegion !== undefined,
    MultiRegionConfiguration: multiRegionConfiguration,
  };
}
