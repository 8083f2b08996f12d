import { operation, type ServiceTable } from '../core/index.js';
import { releasingCiphertextBlob } from './api-ciphertext.js';
import { parseCommonDecrypt, schemas } from './schemas.js';
import type { KmsOperations } from './operations/index.js';

/**
 * The KMS operation table: AWS operation name → input schema → function. Operations on a key are `resource`:
 * they authorize themselves against the key's policy and grants once the key is found (key-access.ts). CreateKey,
 * ListKeys, ListAliases and GenerateRandom have no key: the pipeline checks them against IAM policies.
 */
export function kmsTable(ops: KmsOperations): ServiceTable {
  return {
    targetPrefix: 'TrentService',
    signingName: 'kms',
    internalErrorCode: 'KMSInternalException',
    operations: {
      CreateKey: operation(schemas.CreateKey, ops.createKey),
      DescribeKey: operation(schemas.DescribeKey, ops.describeKey, 'resource'),
      ListKeys: operation(schemas.ListKeys, ops.listKeys),
      EnableKey: operation(schemas.EnableKey, ops.enableKey, 'resource'),
      DisableKey: operation(schemas.DisableKey, ops.disableKey, 'resource'),
      ScheduleKeyDeletion: operation(schemas.ScheduleKeyDeletion, ops.scheduleKeyDeletion, 'resource'),
      CancelKeyDeletion: operation(schemas.CancelKeyDeletion, ops.cancelKeyDeletion, 'resource'),
      UpdateKeyDescription: operation(schemas.UpdateKeyDescription, ops.updateKeyDescription, 'resource'),
      Encrypt: operation(schemas.Encrypt, ops.encrypt, 'resource'),
      Decrypt: operation(schemas.Decrypt, releasingCiphertextBlob(ops.decrypt), 'resource', parseCommonDecrypt),
      ReEncrypt: operation(schemas.ReEncrypt, releasingCiphertextBlob(ops.reEncrypt), 'resource'),
      GenerateDataKey: operation(schemas.GenerateDataKey, ops.generateDataKey, 'resource'),
      GenerateDataKeyWithoutPlaintext: operation(schemas.GenerateDataKeyWithoutPlaintext, ops.generateDataKeyWithoutPlaintext, 'resource'),
      GenerateRandom: operation(schemas.GenerateRandom, ops.generateRandom),
      GenerateDataKeyPair: operation(schemas.GenerateDataKeyPair, ops.generateDataKeyPair, 'resource'),
      GenerateDataKeyPairWithoutPlaintext: operation(schemas.GenerateDataKeyPairWithoutPlaintext, ops.generateDataKeyPairWithoutPlaintext, 'resource'),
      GenerateMac: operation(schemas.GenerateMac, ops.generateMac, 'resource'),
      VerifyMac: operation(schemas.VerifyMac, ops.verifyMac, 'resource'),
      DeriveSharedSecret: operation(schemas.DeriveSharedSecret, ops.deriveSharedSecret, 'resource'),
      GetPublicKey: operation(schemas.GetPublicKey, ops.getPublicKey, 'resource'),
      Sign: operation(schemas.Sign, ops.sign, 'resource'),
      Verify: operation(schemas.Verify, ops.verify, 'resource'),
      CreateAlias: operation(schemas.CreateAlias, ops.createAlias, 'resource'),
      UpdateAlias: operation(schemas.UpdateAlias, ops.updateAlias, 'resource'),
      DeleteAlias: operation(schemas.DeleteAlias, ops.deleteAlias, 'resource'),
      ListAliases: operation(schemas.ListAliases, ops.listAliases),
      EnableKeyRotation: operation(schemas.EnableKeyRotation, ops.enableKeyRotation, 'resource'),
      DisableKeyRotation: operation(schemas.DisableKeyRotation, ops.disableKeyRotation, 'resource'),
      GetKeyRotationStatus: operation(schemas.GetKeyRotationStatus, ops.getKeyRotationStatus, 'resource'),
      RotateKeyOnDemand: operation(schemas.RotateKeyOnDemand, ops.rotateKeyOnDemand, 'resource'),
      ListKeyRotations: operation(schemas.ListKeyRotations, ops.listKeyRotations, 'resource'),
      TagResource: operation(schemas.TagResource, ops.tagResource, 'resource'),
      UntagResource: operation(schemas.UntagResource, ops.untagResource, 'resource'),
      ListResourceTags: operation(schemas.ListResourceTags, ops.listResourceTags, 'resource'),
      GetKeyPolicy: operation(schemas.GetKeyPolicy, ops.getKeyPolicy, 'resource'),
      PutKeyPolicy: operation(schemas.PutKeyPolicy, ops.putKeyPolicy, 'resource'),
      ListKeyPolicies: operation(schemas.ListKeyPolicies, ops.listKeyPolicies, 'resource'),
      CreateGrant: operation(schemas.CreateGrant, ops.createGrant, 'resource'),
      ListGrants: operation(schemas.ListGrants, ops.listGrants, 'resource'),
      ListRetirableGrants: operation(schemas.ListRetirableGrants, ops.listRetirableGrants, 'resource'),
      RetireGrant: operation(schemas.RetireGrant, ops.retireGrant, 'resource'),
      RevokeGrant: operation(schemas.RevokeGrant, ops.revokeGrant, 'resource'),
      ReplicateKey: operation(schemas.ReplicateKey, ops.replicateKey, 'resource'),
      UpdatePrimaryRegion: operation(schemas.UpdatePrimaryRegion, ops.updatePrimaryRegion, 'resource'),
      GetKeyLastUsage: operation(schemas.GetKeyLastUsage, ops.getKeyLastUsage, 'resource'),
      CreateCustomKeyStore: operation(schemas.CreateCustomKeyStore, ops.createCustomKeyStore),
      ConnectCustomKeyStore: operation(schemas.ConnectCustomKeyStore, ops.connectCustomKeyStore),
      DeleteCustomKeyStore: operation(schemas.DeleteCustomKeyStore, ops.deleteCustomKeyStore),
      DescribeCustomKeyStores: operation(schemas.DescribeCustomKeyStores, ops.describeCustomKeyStores),
      DisconnectCustomKeyStore: operation(schemas.DisconnectCustomKeyStore, ops.disconnectCustomKeyStore),
      UpdateCustomKeyStore: operation(schemas.UpdateCustomKeyStore, ops.updateCustomKeyStore),
      GetParametersForImport: operation(schemas.GetParametersForImport, ops.getParametersForImport, 'resource'),
      ImportKeyMaterial: operation(schemas.ImportKeyMaterial, ops.importKeyMaterial, 'resource'),
      DeleteImportedKeyMaterial: operation(schemas.DeleteImportedKeyMaterial, ops.deleteImportedKeyMaterial, 'resource'),
    },
  };
}
