import type { RequestContext } from '../../core/index.js';
import type { Tag } from '../../store/index.js';
import type { SsmDeps } from '../deps.js';
import { ssmError } from '../errors.js';
import { compileFilters, compileLegacyFilters, decodeNextToken, encodeNextToken, type ParameterPredicate, type PathFilter } from '../filters.js';
import { isExpired, metadataView } from '../parameter-values.js';
import type { SsmInput } from '../schemas.js';

/**
 * DescribeParameters: the latest version's metadata (never a value) of the account's parameters in name order,
 * MaxResults (50) per page, narrowed by Filters or ParameterFilters (a Path filter is a range of names; the
 * others apply to the page read, so a page may be short and still have a NextToken, as AWS documents).
 * The pipeline has checked ssm:DescribeParameters on `*` (the action has no resource, as in AWS).
 */
export function createDescribingOperations(deps: SsmDeps) {
  async function describeParameters(ctx: RequestContext, input: SsmInput<'DescribeParameters'>) {
    if (input.Filters && input.ParameterFilters) throw ssmError('ValidationException', 'You can use either Filters or ParameterFilters in a single request.');
    // Coffer shares no parameters between accounts: the shared list is empty.
    if (input.Shared) return { Parameters: [] };
    let predicates: ParameterPredicate[];
    let path: PathFilter | undefined;
    if (input.Filters) predicates = compileLegacyFilters(input.Filters);
    else ({ predicates, path } = compileFilters(input.ParameterFilters ?? [], 'describe'));
    const page = await deps.store.listParameters(ctx.principal.accountId, ctx.region, {
      prefix: path?.prefix === '/' && path.recursive ? undefined : path?.prefix,
      recursive: path?.recursive ?? true,
      afterName: decodeNextToken(input.NextToken),
      limit: input.MaxResults ?? 50,
    });
    const needsTags = predicates.some((predicate) => predicate.needsTags);
    const now = ctx.clock.now();
    const parameters = [];
    for (const stored of page.items) {
      if (isExpired(stored, now)) continue;
      const tags: Tag[] = needsTags ? ((await deps.store.getParameterTags(ctx.principal.accountId, ctx.region, stored.name)) ?? []) : [];
      if (predicates.every((predicate) => predicate.test(stored, tags))) parameters.push(metadataView(ctx, stored));
    }
    return { Parameters: parameters, NextToken: page.nextMarker === undefined ? undefined : encodeNextToken(page.nextMarker) };
  }

  return { describeParameters };
}
