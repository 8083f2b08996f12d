import { operation, type ServiceTable } from '../core/index.js';
import type { SecretsOperations } from './operations/index.js';
import { schemas } from './schemas.js';

/** The Secrets Manager operation table: AWS operation name → input schema → function. */
export function secretsTable(ops: SecretsOperations): ServiceTable {
  return {
    targetPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    internalErrorCode: 'InternalServiceError',
    operations: {
      CreateSecret: operation(schemas.CreateSecret, ops.createSecret),
      GetSecretValue: operation(schemas.GetSecretValue, ops.getSecretValue),
      BatchGetSecretValue: operation(schemas.BatchGetSecretValue, ops.batchGetSecretValue),
      PutSecretValue: operation(schemas.PutSecretValue, ops.putSecretValue),
      UpdateSecret: operation(schemas.UpdateSecret, ops.updateSecret),
      DescribeSecret: operation(schemas.DescribeSecret, ops.describeSecret),
      ListSecrets: operation(schemas.ListSecrets, ops.listSecrets),
      ListSecretVersionIds: operation(schemas.ListSecretVersionIds, ops.listSecretVersionIds),
      UpdateSecretVersionStage: operation(schemas.UpdateSecretVersionStage, ops.updateSecretVersionStage),
      DeleteSecret: operation(schemas.DeleteSecret, ops.deleteSecret),
      RestoreSecret: operation(schemas.RestoreSecret, ops.restoreSecret),
      TagResource: operation(schemas.TagResource, ops.tagResource),
      UntagResource: operation(schemas.UntagResource, ops.untagResource),
      GetRandomPassword: operation(schemas.GetRandomPassword, ops.getRandomPassword),
      RotateSecret: operation(schemas.RotateSecret, ops.rotateSecret),
      CancelRotateSecret: operation(schemas.CancelRotateSecret, ops.cancelRotateSecret),
    },
  };
}
