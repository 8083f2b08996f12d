import type { RequestContext } from '../../core/index.js';
import type { SecretRecord } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { secretsError } from '../errors.js';
import { arnInRegion, isReplica, replicationStatus, type Replication } from '../replication.js';
import type { SecretAccess } from '../secret-access.js';
import type { SecretsInput } from '../schemas.js';

type ReplicaRegionInput = { Region?: string; KmsKeyId?: string };

/**
 * Replicating a secret to other Regions, removing Regions, and promoting a replica to a standalone secret.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RemoveRegionsFromReplication.html
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_StopReplicationToReplica.html
 */
export function createReplicationOperations(deps: SecretsDeps, access: SecretAccess, replication: Replication) {
  async function replicateSecretToRegions(ctx: RequestContext, input: SecretsInput<'ReplicateSecretToRegions'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:ReplicateSecretToRegions');
    const regions = replicaRegions(secret.region, input.AddReplicaRegions);
    const listed = (await deps.store.listSecretReplicas([secret.arn]))[secret.arn] ?? [];
    const again = regions.filter((region) => listed.some((replica) => replica.region === region.Region));
    if (again.length > 0) {
      // AWS does not document this case; nothing changes, and the caller learns which Regions are listed already.
      throw secretsError('InvalidParameterException', `The secret is already replicated to the region ${again.map((region) => region.Region).join(', ')}.`);
    }
    await addReplicas(ctx, secret, regions, input.ForceOverwriteReplicaSecret ?? false);
    return { ARN: secret.arn, ReplicationStatus: await statusOf(secret.arn) };
  }

  /** Lists the Regions and syncs them before answering (their Status is then InSync or Failed). */
  async function addReplicas(ctx: RequestContext, secret: SecretRecord, regions: Array<{ Region: string; KmsKeyId?: string }>, forceOverwrite: boolean) {
    const added = await deps.store.addSecretReplicas(
      secret.arn,
      regions.map((region) => ({ region: region.Region, replicaArn: arnInRegion(secret.arn, region.Region), kmsKeyId: region.KmsKeyId, forceOverwrite })),
    );
    const replicas = ((await deps.store.listSecretReplicas([secret.arn]))[secret.arn] ?? []).filter((replica) => added.includes(replica.region));
    await replication.follow(ctx, secret.arn, replicas);
  }

  /** The replicas go immediately, with no recovery window (seed: "the replica secrets are immediately deleted"). */
  async function removeRegionsFromReplication(ctx: RequestContext, input: SecretsInput<'RemoveRegionsFromReplication'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:RemoveRegionsFromReplication');
    const listed = (await deps.store.listSecretReplicas([secret.arn]))[secret.arn] ?? [];
    const unknown = input.RemoveReplicaRegions.filter((region) => !listed.some((replica) => replica.region === region));
    if (unknown.length > 0) {
      // AWS does not document this case: refused, nothing removed.
      throw secretsError('InvalidParameterException', `The secret isn't replicated to the region ${unknown.join(', ')}.`);
    }
    await deps.store.removeSecretReplicas(secret.arn, [...new Set(input.RemoveReplicaRegions)]);
    return { ARN: secret.arn, ReplicationStatus: (await statusOf(secret.arn)) ?? [] };
  }

  /**
   * Called in the replica's Region: the replica becomes a standalone secret (PrimaryRegion its own Region) and
   * the primary no longer lists it. It can become a replica again only by a primary replicating onto its name
   * with ForceOverwriteReplicaSecret, which replaces it.
   */
  async function stopReplicationToReplica(ctx: RequestContext, input: SecretsInput<'StopReplicationToReplica'>) {
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:StopReplicationToReplica');
    if (!isReplica(secret)) {
      throw secretsError('InvalidRequestException', 'StopReplicationToReplica can only be called on a replica secret, in its own region.');
    }
    const promoted = await deps.store.promoteReplicaSecret(secret.arn, arnInRegion(secret.arn, secret.primaryRegion));
    if (!promoted) throw secretsError('InvalidRequestException', 'StopReplicationToReplica can only be called on a replica secret, in its own region.');
    return { ARN: secret.arn };
  }

  async function statusOf(primaryArn: string) {
    return replicationStatus((await deps.store.listSecretReplicas([primaryArn]))[primaryArn]);
  }

  return { replicateSecretToRegions, removeRegionsFromReplication, stopReplicationToReplica, addReplicas };
}

export type ReplicationOperations = ReturnType<typeof createReplicationOperations>;

/**
 * AddReplicaRegions checked before anything changes: each names a Region (the schema checks its form), not the
 * primary's own, and none twice. AWS's wording for these is not documented.
 */
export function replicaRegions(primaryRegion: string, regions: readonly ReplicaRegionInput[]): Array<{ Region: string; KmsKeyId?: string }> {
  const seen = new Set<string>();
  return regions.map((region) => {
    if (!region.Region) throw secretsError('InvalidParameterException', 'Each replica region must name a Region.');
    if (region.Region === primaryRegion) throw secretsError('InvalidParameterException', `Invalid replica region: ${region.Region} is the primary secret's region.`);
    if (seen.has(region.Region)) throw secretsError('InvalidParameterException', `Duplicate replica region: ${region.Region}.`);
    seen.add(region.Region);
    return { Region: region.Region, KmsKeyId: region.KmsKeyId === '' ? undefined : region.KmsKeyId };
  });
}
