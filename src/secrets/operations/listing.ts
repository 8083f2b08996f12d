import type { RequestContext } from '../../core/index.js';
import type { ListedSecret } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { decodeNextToken, encodeNextToken, matchesFilters, sortSecrets } from '../list-filters.js';
import { describeFields, stagesByVersion } from '../secret-views.js';
import type { SecretsInput } from '../schemas.js';

/**
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
 * Without filters the store sorts and pages, reading only the page; with filters every secret of the
 * account and region is matched here (filters are richer than SQL prefixes), and labels are read for the page.
 */
export function createListingOperations(deps: SecretsDeps) {
  async function listSecrets(ctx: RequestContext, input: SecretsInput<'ListSecrets'>) {
    const offset = decodeNextToken(input.NextToken);
    const limit = input.MaxResults ?? 100;
    // One row more than the page tells whether there is a next page.
    const rows = input.Filters?.length ? await filteredPage(ctx, input, offset, limit + 1) : await unfilteredPage(ctx, input, offset, limit + 1);
    const items = rows.slice(0, limit);
    return {
      SecretList: items.map((secret) => ({
        ...describeFields(secret, secret.tags),
        SecretVersionsToStages: stagesByVersion(Object.entries(secret.versionStages).map(([versionId, stages]) => ({ versionId, stages }))),
      })),
      NextToken: rows.length > limit ? encodeNextToken(offset + limit) : undefined,
    };
  }

  function unfilteredPage(ctx: RequestContext, input: SecretsInput<'ListSecrets'>, offset: number, limit: number): Promise<ListedSecret[]> {
    return deps.store.listSecretPage(ctx.principal.accountId, ctx.region, {
      includeDeleted: input.IncludePlannedDeletion ?? false,
      now: ctx.clock.now(),
      sortBy: input.SortBy ?? 'created-date',
      descending: input.SortOrder === 'desc',
      offset,
      limit,
    });
  }

  async function filteredPage(ctx: RequestContext, input: SecretsInput<'ListSecrets'>, offset: number, limit: number): Promise<ListedSecret[]> {
    const now = ctx.clock.now();
    const all = await deps.store.listSecrets(ctx.principal.accountId, ctx.region);
    const visible = all.filter(
      (secret) =>
        !(secret.scheduledDeletionDate && secret.scheduledDeletionDate <= now) &&
        (input.IncludePlannedDeletion || !secret.deletedDate) &&
        matchesFilters(secret, input.Filters),
    );
    const pageItems = sortSecrets(visible, input.SortBy, input.SortOrder).slice(offset, offset + limit);
    const stages = await deps.store.listVersionStages(pageItems.map((secret) => secret.arn));
    return pageItems.map((secret) => ({ ...secret, versionStages: stages[secret.arn] ?? {} }));
  }

  return { listSecrets };
}
