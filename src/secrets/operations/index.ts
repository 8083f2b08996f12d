import type { RequestContext } from '../../core/index.js';
import type { SecretsDeps } from '../deps.js';
import type { Replication } from '../replication.js';
import { createSecretAccess } from '../secret-access.js';
import { createSecretLookup, type SecretLookup } from '../secret-lookup.js';
import { createSecretValues } from '../secret-values.js';
import { createVersionWriter } from '../version-writer.js';
import { createLifecycleOperations } from './lifecycle.js';
import { createListingOperations } from './listing.js';
import { getRandomPassword } from './password.js';
import { createPolicyOperations } from './policies.js';
import { createReplicationOperations } from './replication.js';
import { createRotationOperations } from './rotation.js';
import { createTaggingOperations } from './tagging.js';
import { createValueOperations } from './values.js';
import { createVersionOperations } from './versions.js';

export function createSecretsOperations(deps: SecretsDeps, replication: Replication) {
  const lookup = createSecretLookup(deps);
  const access = createSecretAccess(deps, lookup);
  const values = createSecretValues(deps);
  const writeVersion = createVersionWriter(deps, values);
  const { addReplicas, ...replicationOperations } = createReplicationOperations(deps, access, replication);
  const ops = {
    ...createLifecycleOperations(deps, access, values, writeVersion, addReplicas),
    ...createValueOperations(deps, access, values, writeVersion),
    ...createVersionOperations(deps, access),
    ...createListingOperations(deps),
    ...createTaggingOperations(deps, access),
    ...createRotationOperations(deps, access),
    ...createPolicyOperations(deps, access),
    ...replicationOperations,
    getRandomPassword,
  };
  const follow = followPrimary(lookup, replication);
  return {
    ...ops,
    // Every change of a primary secret reaches its replicas before the call returns (secrets/replication.ts).
    putSecretValue: follow(ops.putSecretValue),
    updateSecret: follow(ops.updateSecret),
    updateSecretVersionStage: follow(ops.updateSecretVersionStage),
    tagResource: follow(ops.tagResource),
    untagResource: follow(ops.untagResource),
    rotateSecret: follow(ops.rotateSecret),
    cancelRotateSecret: follow(ops.cancelRotateSecret),
    putResourcePolicy: follow(ops.putResourcePolicy),
    deleteResourcePolicy: follow(ops.deleteResourcePolicy),
  };
}

/**
 * Wraps an operation that changes a secret: once it has succeeded, the secret's replicas are synced. The
 * operation already refused replicas; a secret without replica rows (standalone, or absent) has nothing to sync,
 * so an answer that names the ARN needs no second read of the secret.
 */
function followPrimary(lookup: SecretLookup, replication: Replication) {
  return <I extends { SecretId: string }, O>(operation: (ctx: RequestContext, input: I) => Promise<O>) =>
    async (ctx: RequestContext, input: I): Promise<O> => {
      const result = await operation(ctx, input);
      const answered = (result as { ARN?: unknown }).ARN;
      const arn = typeof answered === 'string' ? answered : (await lookup.resolve(ctx, input.SecretId))?.arn;
      if (arn !== undefined) await replication.follow(ctx, arn);
      return result;
    };
}

export type SecretsOperations = ReturnType<typeof createSecretsOperations>;
