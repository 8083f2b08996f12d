import { operation, type ServiceTable } from '../core/index.js';
import type { SecretsOperations } from './operations/index.js';
import { parseCommonGetSecretValue, schemas } from './schemas.js';

/**
 * The Secrets Manager operation table: AWS operation name → input schema → function → access. Operations on a
 * secret authorize against it themselves ('resource'); account-level ones keep the pipeline's action check.
 */
export function secretsTable(ops: SecretsOperations): ServiceTable {
  return {
    targetPrefix: 'secretsmanager',
    signingName: 'secretsmanager',
    internalErrorCode: 'InternalServiceError',
    operations: {
      CreateSecret: operation(schemas.CreateSecret, ops.createSecret, 'resource'),
      GetSecretValue: operation(schemas.GetSecretValue, ops.getSecretValue, 'resource', parseCommonGetSecretValue),
      // The pipeline checks secretsmanager:BatchGetSecretValue; the operation checks GetSecretValue per secret.
      BatchGetSecretValue: operation(schemas.BatchGetSecretValue, ops.batchGetSecretValue),
      PutSecretValue: operation(schemas.PutSecretValue, ops.putSecretValue, 'resource'),
      UpdateSecret: operation(schemas.UpdateSecret, ops.updateSecret, 'resource'),
      DescribeSecret: operation(schemas.DescribeSecret, ops.describeSecret, 'resource'),
      ListSecrets: operation(schemas.ListSecrets, ops.listSecrets),
      ListSecretVersionIds: operation(schemas.ListSecretVersionIds, ops.listSecretVersionIds, 'resource'),
      UpdateSecretVersionStage: operation(schemas.UpdateSecretVersionStage, ops.updateSecretVersionStage, 'resource'),
      DeleteSecret: operation(schemas.DeleteSecret, ops.deleteSecret, 'resource'),
      RestoreSecret: operation(schemas.RestoreSecret, ops.restoreSecret, 'resource'),
      TagResource: operation(schemas.TagResource, ops.tagResource, 'resource'),
      UntagResource: operation(schemas.UntagResource, ops.untagResource, 'resource'),
      GetRandomPassword: operation(schemas.GetRandomPassword, ops.getRandomPassword),
      RotateSecret: operation(schemas.RotateSecret, ops.rotateSecret, 'resource'),
      CancelRotateSecret: operation(schemas.CancelRotateSecret, ops.cancelRotateSecret, 'resource'),
      GetResourcePolicy: operation(schemas.GetResourcePolicy, ops.getResourcePolicy, 'resource'),
      PutResourcePolicy: operation(schemas.PutResourcePolicy, ops.putResourcePolicy, 'resource'),
      DeleteResourcePolicy: operation(schemas.DeleteResourcePolicy, ops.deleteResourcePolicy, 'resource'),
      ValidateResourcePolicy: operation(schemas.ValidateResourcePolicy, ops.validateResourcePolicy, 'resource'),
      ReplicateSecretToRegions: operation(schemas.ReplicateSecretToRegions, ops.replicateSecretToRegions, 'resource'),
      RemoveRegionsFromReplication: operation(schemas.RemoveRegionsFromReplication, ops.removeRegionsFromReplication, 'resource'),
      StopReplicationToReplica: operation(schemas.StopReplicationToReplica, ops.stopReplicationToReplica, 'resource'),
    },
  };
}
