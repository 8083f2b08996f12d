import type { KeyRecord } from '../store/index.js';

/** The KeyMetadata structure of CreateKey and DescribeKey. https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html */
export function keyMetadata(key: KeyRecord) {
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
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    EncryptionAlgorithms: key.keyUsage === 'ENCRYPT_DECRYPT' ? ['SYMMETRIC_DEFAULT'] : undefined,
    MultiRegion: false,
  };
}
