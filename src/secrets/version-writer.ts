import type { RequestContext } from '../core/index.js';
import type { LabelHolders, LabelPlanner, SecretRecord, VersionLabels } from '../store/index.js';
import type { SecretsDeps } from './deps.js';
import { secretsError } from './errors.js';
import { newVersionId, sameValue, type PlainValue, type SecretValues } from './secret-values.js';
import { newVersionStages, planNewVersion, planNewVersionFromHolders, stagesOfNewVersion } from './staging-labels.js';

/**
 * Adds a version to an existing secret: seal the value through KMS first, then one store transaction that
 * inserts it and moves labels. A ClientRequestToken that names an existing version is a retry, found by that
 * transaction: the same value returns that version, another value is refused.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
 */
export function createVersionWriter(deps: Pick<SecretsDeps, 'store'>, values: SecretValues) {
  return async function writeVersion(
    ctx: RequestContext,
    secret: SecretRecord,
    clientRequestToken: string | undefined,
    value: PlainValue,
    stages: string[],
  ): Promise<{ versionId: string; stages: string[] }> {
    const versionId = newVersionId(clientRequestToken);
    // No read for a retry ahead of sealing: the store's transaction finds an existing version anyway, and a
    // retry is rare, so a data key spent on one costs less than a read on every write.
    const now = ctx.clock.now();
    const version = await values.seal(ctx, secret, versionId, value, now);
    // The labels the version got, as planned inside the store's transaction (the last run, if it was retried).
    let applied = stages;
    // From the label holders when the store offers them (no read of every version), else from every version.
    const planner: LabelPlanner = Object.assign(
      (labels: VersionLabels[]) => {
        applied = newVersionStages(labels, versionId, stages);
        return planNewVersion(labels, versionId, stages, now);
      },
      {
        fromHolders: (holders: LabelHolders) => {
          applied = stagesOfNewVersion(holders.versionCount <= 1, stages);
          return planNewVersionFromHolders(holders, versionId, stages);
        },
      },
    );
    const result = await deps.store.putSecretVersion(version, planner, now);
    // A retry (or a concurrent one that inserted first); a rotation's value-less placeholder is filled in instead.
    if (!result.inserted) return replay(ctx, secret, result.existing, value);
    return { versionId, stages: applied };
  };

  async function replay(ctx: RequestContext, secret: SecretRecord, existing: Parameters<SecretValues['open']>[1], value: PlainValue) {
    const stored = await values.open(ctx, existing);
    if (!sameValue(stored, value)) throw tokenInUse(existing.versionId, secret.arn);
    return { versionId: existing.versionId, stages: existing.stages };
  }
}

export type WriteVersion = ReturnType<typeof createVersionWriter>;

/**
 * A ClientRequestToken that names an existing version of the secret, sent with another value: AWS's
 * ResourceExistsException for CreateSecret, PutSecretValue and UpdateSecret ("you can't modify an existing
 * version", https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html).
 */
export function tokenInUse(token: string, secretArn: string) {
  return secretsError('ResourceExistsException', `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${secretArn}.`);
}
