import type { RequestContext } from '../../core/index.js';
import type { SecretsDeps } from '../deps.js';
import { matchesFilters, page, sortSecrets } from '../list-filters.js';
import { describeFields, stagesByVersion } from '../secret-views.js';
import type { SecretsInput } from '../schemas.js';

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html */
export function createListingOperations(deps: SecretsDeps) {
  async function listSecrets(ctx: RequestContext, input: SecretsInput<'ListSecrets'>) {
    const now = ctx.clock.now();
    const all = await deps.store.listSecrets(ctx.principal.accountId, ctx.region);
    const visible = all.filter(
      (secret) =>
        !(secret.scheduledDeletionDate && secret.scheduledDeletionDate <= now) &&
        (input.IncludePlannedDeletion || !secret.deletedDate) &&
        matchesFilters(secret, input.Filters),
    );
    const sorted = sortSecrets(visible, input.SortBy, input.SortOrder);
    const { items, NextToken } = page(sorted, input.NextToken, input.MaxResults ?? 100);
    return {
      SecretList: items.map((secret) => ({
        ...describeFields(secret, secret.tags),
        SecretVersionsToStages: stagesByVersion(Object.entries(secret.versionStages).map(([versionId, stages]) => ({ versionId, stages }))),
      })),
      NextToken,
    };
  }

  return { listSecrets };
}
