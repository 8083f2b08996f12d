import type { RequestContext } from '../../core/index.js';
import type { SecretsDeps } from '../deps.js';
import { isReplica, type Replication } from '../replication.js';
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
  const follow = followPrimary(deps, lookup, replication);
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
 * operation already refused replicas, so the secret it changed is a primary (or standalone: then there is
 * nothing to sync).
 */
function followPrimary(deps: SecretsDeps, lookup: SecretLookup, replication: Replication) {
  return <I extends { SecretId: string }, O>(operation: (ctx: RequestContext, input: I) => Promise<O>) =>
    async (ctx: RequestContext, input: I): Promise<O> => {
      const result = await operation(ctx, input);
      const arn = (result as { ARN?: unknown }).ARN;
      const secret = typeof arn === 'string' ? await deps.store.getSecretByArn(arn) : await lookup.resolve(ctx, input.SecretId);
      if (secret && !isReplica(secret)) await replication.follow(ctx, secret.arn);
      return result;
    };
}

export type SecretsOperations = ReturnType<typeof createSecretsOperations>;
