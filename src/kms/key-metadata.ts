import type { KeyRecord } from '../store/index.js';
import { algorithmsOf, customerMasterKeySpec } from './key-specs.js';

/** The KeyMetadata structure of CreateKey and DescribeKey. https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html */
export function keyMetadata(key: KeyRecord) {
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
    KeyManager: key.keyManager,
    CustomerMasterKeySpec: customerMasterKeySpec(key.keySpec),
    KeySpec: key.keySpec,
    // Each list appears only for its key usage (key-specs.ts).
    EncryptionAlgorithms: algorithms.encryption,
    SigningAlgorithms: algorithms.signing,
    KeyAgreementAlgorithms: algorithms.keyAgreement,
    MacAlgorithms: algorithms.mac,
    MultiRegion: false,
  };
}
