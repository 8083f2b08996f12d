import { randomUUID } from 'node:crypto';
import { accountRootArn, AwsError, type RequestContext } from '../core/index.js';
import type { ReplicaState, ReplicaVersion, SecretRecord, SecretReplicaRecord } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { secretsError } from './errors.js';
import { createSecretValues } from './secret-values.js';

/**
 * Replica secrets: a primary secret copied into other Regions of the same account, as AWS Secrets Manager
 * replicates multi-Region secrets.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/create-manage-multi-region-secrets.html
 *
 * A replica is a secret of its own in its Region (same name, the primary's ARN with that Region) whose
 * PrimaryRegion is the primary's Region; it holds every version of the primary (same ids, dates and labels),
 * its description, tags and resource policy ("Secrets Manager replicates the encrypted secret data and metadata
 * such as tags and resource policies"), each value sealed again under the replica's own KMS key in its Region
 * (the replica's KmsKeyId, or that Region's aws/secretsmanager key). Rotation configuration is not copied: a
 * replica has no rotation schedule of its own, it receives the primary's rotated versions.
 *
 * Consistency: every write to a primary syncs its replicas before the call returns (`follow`), so a client that
 * saw the write answered sees it in every InSync replica. A replica's failure never fails the primary's write:
 * it is recorded as Status Failed with a message, and the maintenance sweep (`catchUp`) retries every replica
 * that is not InSync until it is. Syncs of one replica are ordered by a generation counter in the store: each
 * sync begins by taking the next generation, reads the primary after that, and applies only if no newer sync
 * began meanwhile; so of concurrent writes the last sync to begin decides, and it read the newest state.
 *
 * Whose authority: a sync that follows a caller's write runs with that caller's identity (its KMS calls are
 * authorized as the caller's in the replica's Region, through Secrets Manager, as kms:ViaService says); the
 * sweep acts for the secret's account, as the rotation scheduler does. Only values the replica does not hold
 * yet are opened and sealed again, so a write costs one Decrypt and one GenerateDataKey per replica.
 */
export const REPLICA_WRITE_REFUSED = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

const DEFAULT_KEY_ALIAS = 'alias/aws/secretsmanager';
const SWEEP_BATCH = 100;

export function isReplica(secret: Pick<SecretRecord, 'region' | 'primaryRegion'>): boolean {
  return secret.primaryRegion !== secret.region;
}

/**
 * A replica takes no change of its own (AWS answers InvalidParameterException in this wording, as reported from
 * DeleteSecret and PutResourcePolicy on replicas).
 */
export function refuseReplica(secret: Pick<SecretRecord, 'region' | 'primaryRegion'>): void {
  if (isReplica(secret)) throw secretsError('InvalidParameterException', REPLICA_WRITE_REFUSED);
}

/** `arn:aws:secretsmanager:<region>:...`: the same ARN in another Region. */
export function arnInRegion(arn: string, region: string): string {
  const parts = arn.split(':');
  parts[3] = region;
  return parts.join(':');
}

/** ReplicationStatus as DescribeSecret, ListSecrets and the replication operations answer it. */
export function replicationStatus(replicas: readonly SecretReplicaRecord[] | undefined) {
  if (!replicas || replicas.length === 0) return undefined;
  return replicas.map((replica) => ({
    Region: replica.region,
    // AWS shows the default key as its alias (the AWS CLI's replicate-secret-to-regions example).
    KmsKeyId: replica.kmsKeyId ?? DEFAULT_KEY_ALIAS,
    Status: replica.status,
    StatusMessage: replica.statusMessage,
    LastAccessedDate: replica.lastAccessedDate,
  }));
}

/** The Status Failed message when another secret holds the replica's name in its Region. */
export function nameTakenMessage(region: string): string {
  return `Replication failed: Secret name already exists in region ${region}. Set ForceOverwriteReplicaSecret to true to overwrite it.`;
}

export function createReplication(deps: Pick<SecretsDeps, 'store' | 'kms' | 'logger'>) {
  const values = createSecretValues(deps);

  /**
   * Brings the replicas of the primary `primaryArn` (all, or those given) up to date. Never throws: a replica
   * that cannot be synced is marked Failed, and anything else is logged, so the primary's write stands.
   */
  async function follow(ctx: RequestContext, primaryArn: string, only?: readonly SecretReplicaRecord[]): Promise<void> {
    try {
      const replicas = only ?? (await deps.store.listSecretReplicas([primaryArn]))[primaryArn] ?? [];
      for (const replica of replicas) await syncOne(ctx, primaryArn, replica);
    } catch (error) {
      deps.logger.error('replica sync failed', { requestId: ctx.requestId, secretArn: primaryArn, error: describe(error) });
    }
  }

  async function syncOne(ctx: RequestContext, primaryArn: string, replica: SecretReplicaRecord): Promise<void> {
    const generation = await deps.store.beginReplicaSync(primaryArn, replica.region);
    if (generation === undefined) return;
    try {
      // Read after the sync began: a write that lands later begins a newer sync, which reads it.
      const primary = await deps.store.getSecretByArn(primaryArn);
      if (!primary || isReplica(primary)) return;
      const state = await prepare(ctx, primary, replica);
      if (!state) {
        await deps.store.failReplicaSync(primaryArn, replica.region, generation, nameTakenMessage(replica.region));
        return;
      }
      await deps.store.applyReplicaSync(primaryArn, replica.region, generation, state, nameTakenMessage(replica.region));
    } catch (error) {
      if (!(error instanceof AwsError && error.fault === 'client')) {
        deps.logger.error('replica sync failed', { requestId: ctx.requestId, secretArn: primaryArn, region: replica.region, error: describe(error) });
      }
      await deps.store.failReplicaSync(primaryArn, replica.region, generation, failureMessage(error));
    }
  }

  /**
   * What the replica must hold, with the values it lacks sealed under its key in its Region. Undefined when
   * another secret holds its name there and the Region was added without ForceOverwriteReplicaSecret (the
   * store checks again inside its transaction).
   */
  async function prepare(ctx: RequestContext, primary: SecretRecord, replica: SecretReplicaRecord): Promise<ReplicaState | undefined> {
    const holder = await deps.store.getSecretByName(primary.accountId, replica.region, primary.name);
    const ours = holder !== undefined && holder.arn === replica.replicaArn && holder.primaryRegion === primary.region && isReplica(holder);
    if (holder && !ours && !replica.forceOverwrite) return undefined;
    const held = new Map((ours ? await deps.store.listSecretVersions(replica.replicaArn) : []).map((version) => [version.versionId, version.sealedValue !== undefined]));
    const [versions, tags] = await Promise.all([deps.store.listSecretVersions(primary.arn), deps.store.listSecretTags(primary.arn)]);
    const replicaCtx: RequestContext = { ...ctx, region: replica.region };
    const owner = { arn: replica.replicaArn, kmsKeyId: replica.kmsKeyId, accountId: primary.accountId, region: replica.region };
    const replicaVersions: ReplicaVersion[] = [];
    // Oldest first, so the replica's versions keep the primary's order.
    for (const version of [...versions].reverse()) {
      let sealed: ReplicaVersion['sealed'];
      if (version.sealedValue && held.get(version.versionId) !== true) {
        const plain = await values.open(ctx, version);
        try {
          const record = await values.seal(replicaCtx, owner, version.versionId, plain, version.createdDate);
          sealed = { dataKeys: record.dataKeys, sealedValue: record.sealedValue! };
        } finally {
          plain.bytes.fill(0);
        }
      }
      replicaVersions.push({
        versionId: version.versionId,
        createdDate: version.createdDate,
        valueType: version.valueType,
        stages: version.stages,
        hasValue: version.sealedValue !== undefined,
        sealed,
      });
    }
    const now = ctx.clock.now();
    const secret: SecretRecord = {
      arn: replica.replicaArn,
      accountId: primary.accountId,
      region: replica.region,
      name: primary.name,
      description: primary.description,
      kmsKeyId: replica.kmsKeyId,
      createdDate: ours ? holder.createdDate : now,
      lastChangedDate: primary.lastChangedDate,
      primaryRegion: primary.region,
      resourcePolicy: primary.resourcePolicy,
    };
    return { secret, tags, versions: replicaVersions };
  }

  /**
   * The maintenance sweep: retries every replica not InSync (a failed sync, or one a crashed node never
   * finished), acting for the secret's account (as the rotation scheduler does).
   */
  async function catchUp(now: Date): Promise<{ synced: number }> {
    let synced = 0;
    for (const replica of await deps.store.listSecretReplicasToSync(SWEEP_BATCH)) {
      const primary = await deps.store.getSecretByArn(replica.primaryArn);
      if (!primary) continue;
      await follow(serviceContext(primary, now), primary.arn, [replica]);
      synced += 1;
    }
    return { synced };
  }

  return { follow, catchUp };
}

export type Replication = ReturnType<typeof createReplication>;

function serviceContext(primary: SecretRecord, now: Date): RequestContext {
  return {
    requestId: randomUUID(),
    principal: { accountId: primary.accountId, arn: accountRootArn(primary.accountId), accessKeyId: 'coffer-replication' },
    region: primary.region,
    clock: { now: () => now },
  };
}

/**
 * StatusMessage of a failed sync: KMS's refusal as Secrets Manager words it ("Access to KMS is not allowed",
 * "Secrets Manager can't encrypt the secret value with the KMS key: ..."); never a value.
 */
function failureMessage(error: unknown): string {
  if (error instanceof AwsError && error.fault === 'client') return `Replication failed: ${error.message}`;
  return 'Replication failed: an internal error occurred; Coffer retries it.';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
