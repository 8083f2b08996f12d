import { randomInt, randomUUID } from 'node:crypto';
import { AwsError, type RequestContext } from '../../core/index.js';
import type { SecretPatch, SecretRecord } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { MARKED_FOR_DELETION, secretsError } from '../errors.js';
import { requestTagConditions, type SecretAccess } from '../secret-access.js';
import { ownerKeyReference, plainValue, sameValue, type SecretValues } from '../secret-values.js';
import { describeFields, stagesByVersion } from '../secret-views.js';
import type { SecretsInput } from '../schemas.js';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../staging-labels.js';
import { assertValidTags, toStoreTags } from '../tags.js';
import { tokenInUse, type WriteVersion } from '../version-writer.js';
import { arnInRegion, isReplica, refuseReplica, replicationStatus } from '../replication.js';
import { replicaRegions, type ReplicationOperations } from './replication.js';

const DAY_MS = 86_400_000;
const REENCRYPTED_STAGES = new Set([AWSCURRENT, AWSPENDING, AWSPREVIOUS]);
const DEFAULT_RECOVERY_WINDOW_DAYS = 30;
const NAME_PATTERN = /^[a-zA-Z0-9/_+=.@-]+$/;
const SUFFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Secrets as resources: create, update, describe, delete with a recovery window, restore. */
export function createLifecycleOperations(
  deps: SecretsDeps,
  access: SecretAccess,
  values: SecretValues,
  writeVersion: WriteVersion,
  addReplicas: ReplicationOperations['addReplicas'],
) {
  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html */
  async function createSecret(ctx: RequestContext, input: SecretsInput<'CreateSecret'>) {
    assertValidName(input.Name);
    const replicas = input.AddReplicaRegions ? replicaRegions(ctx.region, input.AddReplicaRegions) : undefined;
    assertValidTags(input.Tags ?? []);
    const value = plainValue(input, false);
    const arn = secretArn(ctx, input.Name);
    // Before anything is sealed or stored: the check is on the ARN the secret will have.
    await access.authorizeNew(ctx, arn, input.Name, {
      'secretsmanager:Name': input.Name,
      'secretsmanager:Description': input.Description,
      'secretsmanager:KmsKeyId': input.KmsKeyId,
      ...requestTagConditions(input.Tags),
    });
    // Replicas at creation need the permission to replicate too (AWS's CreateSecret: "To add replica Regions,
    // you must also have secretsmanager:ReplicateSecretToRegions").
    if (replicas) await access.authorizeNew(ctx, arn, input.Name, {}, 'secretsmanager:ReplicateSecretToRegions');
    const now = ctx.clock.now();
    const secret: SecretRecord = {
      arn,
      accountId: ctx.principal.accountId,
      region: ctx.region,
      name: input.Name,
      description: input.Description,
      kmsKeyId: keyReference(input.KmsKeyId),
      createdDate: now,
      lastChangedDate: now,
      primaryRegion: ctx.region,
    };
    const versionId = value ? (input.ClientRequestToken ?? randomUUID()) : undefined;
    const version = value && versionId ? await values.seal(ctx, secret, versionId, value, now) : undefined;
    const tags = toStoreTags(input.Tags ?? []);
    let result = await deps.store.createSecret(secret, tags, version);
    if (!result.created && isDue(result.existing, now)) {
      // The name belongs to a secret whose recovery window has ended: it is gone, so the name is free.
      await deps.store.destroySecret(result.existing.arn);
      result = await deps.store.createSecret(secret, tags, version);
    }
    if (!result.created) return replayCreate(ctx, result.existing, input.ClientRequestToken, value);
    if (!replicas) return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
    await addReplicas(ctx, secret, replicas, input.ForceOverwriteReplicaSecret ?? false);
    const listed = (await deps.store.listSecretReplicas([secret.arn]))[secret.arn];
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, ReplicationStatus: replicationStatus(listed) };
  }

  /** A retried CreateSecret (same token, same value) returns the secret it created; anything else collides. */
  async function replayCreate(ctx: RequestContext, existing: SecretRecord, token: string | undefined, value: ReturnType<typeof plainValue>) {
    if (existing.deletedDate) {
      throw secretsError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    const version = token && value ? await deps.store.getSecretVersion(existing.arn, token) : undefined;
    if (version?.sealedValue && value) {
      if (sameValue(await values.open(ctx, version), value)) return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
      throw tokenInUse(version.versionId, existing.arn);
    }
    throw secretsError('ResourceExistsException', `The operation failed because the secret ${existing.name} already exists.`);
  }

  /**
   * A new value becomes a new AWSCURRENT version. A new KmsKeyId seals new versions from now on, and
   * re-encrypts the AWSCURRENT, AWSPENDING and AWSPREVIOUS versions under it while their old wrapping stays
   * usable, so either key opens them.
   * https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_update-encryption-key.html
   */
  async function updateSecret(ctx: RequestContext, input: SecretsInput<'UpdateSecret'>) {
    const secret = await access.authorizedLiveSecret(ctx, input.SecretId, 'secretsmanager:UpdateSecret', {
      'secretsmanager:Description': input.Description,
      'secretsmanager:KmsKeyId': input.KmsKeyId,
    });
    if (isReplica(secret)) await changeReplicaKey(secret, input);
    const value = plainValue(input, false);
    const patch: SecretPatch = {};
    if (input.Description !== undefined) patch.description = input.Description;
    // An empty KmsKeyId means the default key again; an explicit undefined clears the column.
    if (input.KmsKeyId !== undefined) patch.kmsKeyId = keyReference(input.KmsKeyId);
    let updated = secret;
    if (Object.keys(patch).length > 0) {
      const changed = { ...patch, lastChangedDate: ctx.clock.now() };
      const rekeyed = 'kmsKeyId' in patch && patch.kmsKeyId !== secret.kmsKeyId;
      const dataKeys = rekeyed ? await rewrapLabelledVersions(ctx, secret, patch.kmsKeyId) : [];
      updated = (await deps.store.rewrapSecretVersions(secret.arn, dataKeys, changed)) ?? secret;
    }
    if (!value) return { ARN: secret.arn, Name: secret.name };
    const written = await writeVersion(ctx, updated, input.ClientRequestToken, value, [AWSCURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: written.versionId };
  }

  /**
   * "A replica secret can't be updated independently from its primary secret, except for its encryption key"
   * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/standalone-secret.html): UpdateSecret in the
   * replica's Region with KmsKeyId alone changes it, re-encrypting the replica's labelled versions as for any
   * secret; the primary's row for that Region names the new key, so later syncs seal with it. Anything else is
   * refused. AWS does not document which call the console makes for this; UpdateSecret is the one that changes a
   * secret's key.
   */
  async function changeReplicaKey(secret: SecretRecord, input: SecretsInput<'UpdateSecret'>): Promise<void> {
    const onlyKey = input.KmsKeyId !== undefined && input.Description === undefined && input.SecretString === undefined && input.SecretBinary === undefined;
    if (!onlyKey) refuseReplica(secret);
    const changed = await deps.store.setReplicaKmsKey(arnInRegion(secret.arn, secret.primaryRegion), secret.region, keyReference(input.KmsKeyId));
    if (!changed) refuseReplica(secret);
  }

  async function rewrapLabelledVersions(ctx: RequestContext, secret: SecretRecord, newKeyId: string | undefined) {
    const labelled = (await deps.store.listSecretVersions(secret.arn)).filter((version) =>
      version.stages.some((stage) => REENCRYPTED_STAGES.has(stage)),
    );
    const keyReference = ownerKeyReference(ctx, secret, newKeyId);
    const rewrapped = await Promise.all(
      labelled.map(async (version) => ({ versionId: version.versionId, dataKey: await values.rewrap(ctx, version, keyReference, newKeyId === undefined) })),
    );
    return rewrapped.flatMap(({ versionId, dataKey }) => (dataKey ? [{ versionId, dataKey }] : []));
  }

  async function describeSecret(ctx: RequestContext, input: SecretsInput<'DescribeSecret'>) {
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:DescribeSecret');
    const [tags, versions, replicas] = await Promise.all([
      deps.store.listSecretTags(secret.arn),
      deps.store.listSecretVersions(secret.arn),
      deps.store.listSecretReplicas([secret.arn]),
    ]);
    return { ...describeFields(secret, tags), VersionIdsToStages: stagesByVersion(versions), ReplicationStatus: replicationStatus(replicas[secret.arn]) };
  }

  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html */
  async function deleteSecret(ctx: RequestContext, input: SecretsInput<'DeleteSecret'>) {
    if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
      throw secretsError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const windowDays = input.RecoveryWindowInDays ?? DEFAULT_RECOVERY_WINDOW_DAYS;
    if (!input.ForceDeleteWithoutRecovery && (windowDays < 7 || windowDays > 30)) {
      throw secretsError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const now = ctx.clock.now();
    if (input.ForceDeleteWithoutRecovery) {
      const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:DeleteSecret').catch((error: unknown) => {
        // "If you forcibly delete an already deleted or nonexistent secret, the operation does not return
        // ResourceNotFoundException." (DeleteSecret, ForceDeleteWithoutRecovery) — to a caller allowed to delete
        // it: one who is not was refused with AccessDeniedException before this point.
        if (error instanceof AwsError && error.code === 'ResourceNotFoundException') return undefined;
        throw error;
      });
      if (!secret) return { ...absentSecretIds(ctx, input.SecretId), DeletionDate: now };
      await refuseWhileReplicated(secret);
      // Replicated meanwhile: the store refuses in the same transaction, and the refusal says why.
      if (!(await deps.store.destroySecret(secret.arn))) await refuseWhileReplicated(secret);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
    }
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:DeleteSecret');
    await refuseWhileReplicated(secret);
    const marked = await deps.store.markSecretDeleted(secret.arn, now, new Date(now.getTime() + windowDays * DAY_MS));
    if (!marked) {
      // Replicated meanwhile, or already deleted.
      await refuseWhileReplicated(secret);
      throw secretsError('InvalidRequestException', MARKED_FOR_DELETION);
    }
    return { ARN: secret.arn, Name: secret.name, DeletionDate: marked.scheduledDeletionDate };
  }

  async function restoreSecret(ctx: RequestContext, input: SecretsInput<'RestoreSecret'>) {
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:RestoreSecret');
    refuseReplica(secret);
    await deps.store.restoreSecret(secret.arn);
    return { ARN: secret.arn, Name: secret.name };
  }

  /**
   * A replica is deleted only through its primary (RemoveRegionsFromReplication), and a primary only once it has
   * no replicas left, in AWS's words (reported from DeleteSecret on such a secret).
   */
  async function refuseWhileReplicated(secret: SecretRecord): Promise<void> {
    refuseReplica(secret);
    const replicas = (await deps.store.listSecretReplicas([secret.arn]))[secret.arn] ?? [];
    if (replicas.length > 0) {
      throw secretsError('InvalidParameterException', `You can't delete secret ${secret.arn} that still has replica regions [${replicas.map((replica) => replica.region).join(', ')}].`);
    }
  }

  return { createSecret, updateSecret, describeSecret, deleteSecret, restoreSecret };
}

/**
 * Names hold ASCII letters, digits and /_+=.@-
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html). AWS refuses others
 * with a ValidationException in this wording, as reported from the AWS SDK in smithy-typescript#1546.
 */
function assertValidName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw secretsError('ValidationException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
}

/** CreateSecret and UpdateSecret take '' to mean the account's aws/secretsmanager key, as leaving it out does. */
function keyReference(kmsKeyId: string | undefined): string | undefined {
  return kmsKeyId === '' ? undefined : kmsKeyId;
}

function isDue(secret: SecretRecord, now: Date): boolean {
  return secret.scheduledDeletionDate !== undefined && secret.scheduledDeletionDate <= now;
}

/**
 * What a forced delete of a secret that does not exist answers with. AWS does not document these members
 * for that case; the name echoes the SecretId and the ARN is one a secret of that name would have had.
 */
function absentSecretIds(ctx: RequestContext, secretId: string): { ARN: string; Name: string } {
  if (secretId.startsWith('arn:')) {
    const resource = secretId.split(':').slice(6).join(':');
    return { ARN: secretId, Name: resource.replace(/-[A-Za-z0-9]{6}$/, '') };
  }
  return { ARN: secretArn(ctx, secretId), Name: secretId };
}

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>` */
function secretArn(ctx: RequestContext, name: string): string {
  let suffix = '';
  for (let i = 0; i < 6; i++) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return `arn:aws:secretsmanager:${ctx.region}:${ctx.principal.accountId}:secret:${name}-${suffix}`;
}
