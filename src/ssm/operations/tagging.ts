import type { RequestContext } from '../../core/index.js';
import type { ParameterLimits, SsmDeps } from '../deps.js';
import { ssmError } from '../errors.js';
import { nameFromArnOrName } from '../names.js';
import { requestTagConditions, type ParameterAccess } from '../parameter-access.js';
import type { SsmInput } from '../schemas.js';

/**
 * AddTagsToResource, RemoveTagsFromResource and ListTagsForResource for ResourceType Parameter (the one
 * resource type Coffer has); ResourceId is the parameter's name (or ARN). At most 50 tags per parameter, and
 * keys beginning with `aws:` are AWS's own.
 */
export function createTaggingOperations(deps: SsmDeps, access: ParameterAccess, limits: ParameterLimits) {
  async function addTagsToResource(ctx: RequestContext, input: SsmInput<'AddTagsToResource'>) {
    const name = parameterOf(ctx, input);
    await access.authorizeParameter(ctx, 'ssm:AddTagsToResource', name, requestTagConditions(input.Tags));
    if (input.Tags.some((tag) => tag.Key.toLowerCase().startsWith('aws:'))) throw ssmError('ValidationException', 'Tag keys beginning with aws: are reserved for AWS use.');
    const outcome = await deps.store.tagParameter(
      ctx.principal.accountId,
      ctx.region,
      name,
      input.Tags.map((tag) => ({ TagKey: tag.Key, TagValue: tag.Value })),
      limits.maxTags,
    );
    if (outcome === 'absent') throw invalidResourceId(name);
    if (outcome === 'limit-exceeded') throw ssmError('TooManyTagsError', `A parameter can have a maximum of ${limits.maxTags} tags.`);
    return {};
  }

  async function removeTagsFromResource(ctx: RequestContext, input: SsmInput<'RemoveTagsFromResource'>) {
    const name = parameterOf(ctx, input);
    await access.authorizeParameter(ctx, 'ssm:RemoveTagsFromResource', name, { 'aws:TagKeys': input.TagKeys });
    if (!(await deps.store.untagParameter(ctx.principal.accountId, ctx.region, name, input.TagKeys))) throw invalidResourceId(name);
    return {};
  }

  async function listTagsForResource(ctx: RequestContext, input: SsmInput<'ListTagsForResource'>) {
    const name = parameterOf(ctx, input);
    await access.authorizeParameter(ctx, 'ssm:ListTagsForResource', name);
    const tags = await deps.store.getParameterTags(ctx.principal.accountId, ctx.region, name);
    if (!tags) throw invalidResourceId(name);
    return { TagList: tags.map((tag) => ({ Key: tag.TagKey, Value: tag.TagValue })) };
  }

  return { addTagsToResource, removeTagsFromResource, listTagsForResource };
}

function parameterOf(ctx: RequestContext, input: { ResourceType: string; ResourceId: string }): string {
  if (input.ResourceType !== 'Parameter') throw ssmError('InvalidResourceType', `Coffer keeps tags of parameters only, not of ${input.ResourceType}.`);
  return nameFromArnOrName(input.ResourceId.trim(), ctx.region, ctx.principal.accountId);
}

function invalidResourceId(name: string) {
  return ssmError('InvalidResourceId', `The resource ID ${name} is not valid. Verify that you entered the correct ID and try again.`);
}
