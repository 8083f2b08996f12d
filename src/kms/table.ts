import { operation, type ServiceTable } from '../core/index.js';
import { schemas } from './schemas.js';
import type { KmsOperations } from './operations/index.js';

/** The KMS operation table: AWS operation name → input schema → function. */
export function kmsTable(ops: KmsOperations): ServiceTable {
  return {
    targetPrefix: 'TrentService',
    signingName: 'kms',
    internalErrorCode: 'KMSInternalException',
    operations: {
      CreateKey: operation(schemas.CreateKey, ops.createKey),
      DescribeKey: operation(schemas.DescribeKey, ops.describeKey),
      ListKeys: operation(schemas.ListKeys, ops.listKeys),
      EnableKey: operation(schemas.EnableKey, ops.enableKey),
      DisableKey: operation(schemas.DisableKey, ops.disableKey),
      ScheduleKeyDeletion: operation(schemas.ScheduleKeyDeletion, ops.scheduleKeyDeletion),
      CancelKeyDeletion: operation(schemas.CancelKeyDeletion, ops.cancelKeyDeletion),
      UpdateKeyDescription: operation(schemas.UpdateKeyDescription, ops.updateKeyDescription),
      Encrypt: operation(schemas.Encrypt, ops.encrypt),
      Decrypt: operation(schemas.Decrypt, ops.decrypt),
      ReEncrypt: operation(schemas.ReEncrypt, ops.reEncrypt),
      GenerateDataKey: operation(schemas.GenerateDataKey, ops.generateDataKey),
      GenerateDataKeyWithoutPlaintext: operation(schemas.GenerateDataKeyWithoutPlaintext, ops.generateDataKeyWithoutPlaintext),
      GenerateRandom: operation(schemas.GenerateRandom, ops.generateRandom),
      CreateAlias: operation(schemas.CreateAlias, ops.createAlias),
      UpdateAlias: operation(schemas.UpdateAlias, ops.updateAlias),
      DeleteAlias: operation(schemas.DeleteAlias, ops.deleteAlias),
      ListAliases: operation(schemas.ListAliases, ops.listAliases),
      EnableKeyRotation: operation(schemas.EnableKeyRotation, ops.enableKeyRotation),
      DisableKeyRotation: operation(schemas.DisableKeyRotation, ops.disableKeyRotation),
      GetKeyRotationStatus: operation(schemas.GetKeyRotationStatus, ops.getKeyRotationStatus),
      RotateKeyOnDemand: operation(schemas.RotateKeyOnDemand, ops.rotateKeyOnDemand),
      ListKeyRotations: operation(schemas.ListKeyRotations, ops.listKeyRotations),
      TagResource: operation(schemas.TagResource, ops.tagResource),
      UntagResource: operation(schemas.UntagResource, ops.untagResource),
      ListResourceTags: operation(schemas.ListResourceTags, ops.listResourceTags),
      GetKeyPolicy: operation(schemas.GetKeyPolicy, ops.getKeyPolicy),
      PutKeyPolicy: operation(schemas.PutKeyPolicy, ops.putKeyPolicy),
      ListKeyPolicies: operation(schemas.ListKeyPolicies, ops.listKeyPolicies),
    },
  };
}
