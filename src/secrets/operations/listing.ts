import type { RequestContext } from '../../core/index.js';
import type { ListedSecret, PagedSecret, SecretSort } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { filteredSecrets } from '../filtered-secrets.js';
import { decodeListToken, encodeCursorToken, encodeNextToken, invalidNextToken, type SecretListStart } from '../list-filters.js';
import { describeFields, stagesByVersion } from '../secret-views.js';
import type { SecretsInput } from '../schemas.js';

/**
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
 * Without filters the store sorts and pages, reading only the page: the NextToken names the last secret listed
 * and the next page starts after it, so a page deep into 100,000 secrets costs what the first does, and secrets
 * created or deleted between pages neither repeat nor hide others. With filters every secret of the account
 * and region is matched here (filters are richer than SQL prefixes), chunk by chunk in the store's order for the
 * asked sort (the same order as without filters: ties in the order the secrets were written), the NextToken is
 * an offset into that result, and labels are read for the page.
 */
export function createListingOperations(deps: SecretsDeps) {
  async function listSecrets(ctx: RequestContext, input: SecretsInput<'ListSecrets'>) {
    const start = decodeListToken(input.NextToken);
    const limit = input.MaxResults ?? 100;
    const sortBy: SecretSort = input.SortBy ?? 'created-date';
    const descending = input.SortOrder === 'desc';
    let items: ListedSecret[];
    let nextToken: string | undefined;
    if (input.Filters?.length) {
      if (!('offset' in start)) throw invalidNextToken();
      // One row more than the page tells whether there is a next page.
      const rows = await filteredPage(ctx, input, start.offset, limit + 1);
      items = rows.slice(0, limit);
      nextToken = rows.length > limit ? encodeNextToken(start.offset + limit) : undefined;
    } else {
      if ('after' in start && (start.sortBy !== sortBy || start.descending !== descending)) throw invalidNextToken();
      const rows = await unfilteredPage(ctx, input, start, { sortBy, descending, limit: limit + 1 });
      items = rows.slice(0, limit);
      nextToken = rows.length > limit ? encodeCursorToken(rows[limit - 1]!.cursor, sortBy, descending) : undefined;
    }
    // Built in place, not spread into a copy: 64 pages in flight each hold 100 of these until they are encoded.
    return {
      SecretList: items.map((secret) => Object.assign(describeFields(secret, secret.tags), { SecretVersionsToStages: labelledVersions(secret.versionStages) })),
      NextToken: nextToken,
    };
  }

  function unfilteredPage(
    ctx: RequestContext,
    input: SecretsInput<'ListSecrets'>,
    start: SecretListStart,
    order: { sortBy: SecretSort; descending: boolean; limit: number },
  ): Promise<PagedSecret[]> {
    return deps.store.listSecretPage(ctx.principal.accountId, ctx.region, {
      includeDeleted: input.IncludePlannedDeletion ?? false,
      now: ctx.clock.now(),
      ...order,
      ...('after' in start ? { after: start.after } : { offset: start.offset }),
    });
  }

  /** The filtered page at `offset`: the matches in the asked order (see filteredSecrets), with their labels. */
  async function filteredPage(ctx: RequestContext, input: SecretsInput<'ListSecrets'>, offset: number, limit: number): Promise<ListedSecret[]> {
    const order = { sortBy: input.SortBy ?? 'created-date', descending: input.SortOrder === 'desc', includeDeleted: input.IncludePlannedDeletion ?? false };
    return withLabels(await filteredSecrets(deps.store, ctx, order, input.Filters, offset, limit));
  }

  /** The page's labels, set on its own records (read without them), not spread into copies. */
  async function withLabels(secrets: PagedSecret[]): Promise<ListedSecret[]> {
    const stages = await deps.store.listVersionStages(secrets.map((secret) => secret.arn));
    for (const secret of secrets) secret.versionStages = stages[secret.arn] ?? {};
    return secrets;
  }

  return { listSecrets };
}

/** A store's versionId → labels, as SecretVersionsToStages: only labelled versions, none at all when none is. */
function labelledVersions(versionStages: Record<string, string[]>): Record<string, string[]> | undefined {
  let labelled = true;
  let any = false;
  for (const versionId in versionStages) {
    any = true;
    if (versionStages[versionId]!.length === 0) labelled = false;
  }
  if (labelled) return any ? versionStages : undefined;
  return stagesByVersion(Object.entries(versionStages).map(([versionId, stages]) => ({ versionId, stages })));
}
