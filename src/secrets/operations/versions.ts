import type { RequestContext } from '../../core/index.js';
import type { SecretsDeps } from '../deps.js';
import { page } from '../list-filters.js';
import type { SecretAccess } from '../secret-access.js';
import type { SecretsInput } from '../schemas.js';
import { planStageUpdate } from '../staging-labels.js';

/** Versions and their staging labels. */
export function createVersionOperations(deps: SecretsDeps, access: SecretAccess) {
  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html */
  async function listSecretVersionIds(ctx: RequestContext, input: SecretsInput<'ListSecretVersionIds'>) {
    // Works during the recovery window: InvalidRequestException is not among this operation's errors.
    const secret = await access.authorizedSecret(ctx, input.SecretId, 'secretsmanager:ListSecretVersionIds');
    const versions = (await deps.store.listSecretVersions(secret.arn)).filter(
      (version) => input.IncludeDeprecated || version.stages.length > 0,
    );
    const { items, NextToken } = page(versions, input.NextToken, input.MaxResults ?? 100);
    return {
      Versions: items.map((version) => ({
        VersionId: version.versionId,
        VersionStages: version.stages,
        LastAccessedDate: version.lastAccessedDate,
        CreatedDate: version.createdDate,
        // AWS names the account's default key "DefaultEncryptionKey" here rather than by its ARN.
        KmsKeyIds: version.dataKeys.map((dataKey) => (dataKey.defaultKey ? 'DefaultEncryptionKey' : dataKey.kmsKeyArn)),
      })),
      NextToken,
      ARN: secret.arn,
      Name: secret.name,
    };
  }

  async function updateSecretVersionStage(ctx: RequestContext, input: SecretsInput<'UpdateSecretVersionStage'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:UpdateSecretVersionStage', {
      'secretsmanager:VersionStage': input.VersionStage,
    });
    const now = ctx.clock.now();
    await deps.store.updateSecretLabels(
      secret.arn,
      (labels) => planStageUpdate(labels, input.VersionStage, input.MoveToVersionId, input.RemoveFromVersionId, now),
      now,
    );
    return { ARN: secret.arn, Name: secret.name };
  }

  return { listSecretVersionIds, updateSecretVersionStage };
}
