import type { RequestContext } from '../../core/index.js';
import type { ListedSecret, PagedSecret, SecretListCursor, SecretSort } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { decodeListToken, encodeCursorToken, encodeNextToken, invalidNextToken, matchesFilters, sortSecrets, type SecretListStart } from '../list-filters.js';
import { describeFields, stagesByVersion } from '../secret-views.js';
import type { SecretsInput } from '../schemas.js';

/**
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html
 * Without filters the store sorts and pages, reading only the page: the NextToken names the last secret listed
 * and the next page starts after it, so a page deep into 100,000 secrets costs what the first does, and secrets
 * created or deleted between pages neither repeat nor hide others. With filters every secret of the account
 * and region is matched here (filters are richer than SQL prefixes), chunk by chunk, the NextToken is an offset
 * into that result, and labels are read for the page.
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

  /**
   * The filtered page at `offset`, as sorting every visible match of the account and region and slicing would give
   * it, without holding them all: the account is read in chunks in its creation order (the order sortSecrets breaks
   * ties in), and only the `offset + limit` first matches in the asked order are kept between chunks. Holding every
   * secret of a 100,000-secret account was ~70 MB per call, against a heap capped at 1 GB (bin/coffer).
   */
  async function filteredPage(ctx: RequestContext, input: SecretsInput<'ListSecrets'>, offset: number, limit: number): Promise<ListedSecret[]> {
    const wanted = offset + limit;
    const request = { includeDeleted: input.IncludePlannedDeletion ?? false, now: ctx.clock.now(), sortBy: 'created-date' as const, descending: false, labels: false };
    // Kept in creation order (pruning keeps it), so sortSecrets breaks ties among them as it would among all matches.
    let kept: ListedSecret[] = [];
    let after: SecretListCursor | undefined;
    for (;;) {
      const chunk = await deps.store.listSecretPage(ctx.principal.accountId, ctx.region, { ...request, limit: FILTER_CHUNK, ...(after ? { after } : {}) });
      for (const secret of chunk) if (matchesFilters(secret, input.Filters)) kept.push(secret);
      if (kept.length >= wanted && createdAscending(input)) break; // later secrets sort after every one kept
      if (kept.length > wanted + FILTER_CHUNK) kept = firstInOrder(kept, input, wanted);
      if (chunk.length < FILTER_CHUNK) break;
      after = chunk[chunk.length - 1]!.cursor;
    }
    const pageItems = sortSecrets(kept, input.SortBy, input.SortOrder).slice(offset, wanted);
    const stages = await deps.store.listVersionStages(pageItems.map((secret) => secret.arn));
    return pageItems.map((secret) => Object.assign(secret, { versionStages: stages[secret.arn] ?? {} }));
  }

  return { listSecrets };
}

/** Secrets read per statement by a filtered listing: it holds at most its page's offset and limit and two of these. */
const FILTER_CHUNK = 1000;

/** The default order: the store's chunks come in it, so a filtered listing can stop once it has its page. */
function createdAscending(input: SecretsInput<'ListSecrets'>): boolean {
  return (input.SortBy ?? 'created-date') === 'created-date' && input.SortOrder !== 'desc';
}

/**
 * The `count` first of `secrets` (in creation order) in the asked order, returned in creation order again, so the
 * next chunk's secrets can be appended and ties still break as sortSecrets breaks them: by place in that order.
 */
function firstInOrder(secrets: ListedSecret[], input: SecretsInput<'ListSecrets'>, count: number): ListedSecret[] {
  const first = new Set(sortSecrets(secrets, input.SortBy, input.SortOrder).slice(0, count));
  return secrets.filter((secret) => first.has(secret));
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
