import type { RequestContext } from '../core/index.js';
import { requestTagContext, type ContextValue } from '../policy/index.js';
import type { Tag } from '../store/index.js';
import type { SsmDeps } from './deps.js';
import { parameterArn } from './names.js';

export type RequestConditions = Record<string, ContextValue>;

/** Condition keys (lower case, as compiled policies hold them) that need the parameter's tags. */
const RESOURCE_TAG_KEYS = ['aws:resourcetag/', 'ssm:resourcetag/'];

/**
 * Authorization of Parameter Store calls: `ssm:<Action>` on `arn:aws:ssm:<region>:<account>:parameter/<name>`,
 * formed from the name the caller gave, before the store is asked whether the parameter exists; so a refusal
 * is the same for a parameter that exists and one that does not. The parameter's tags (aws:ResourceTag/…) are
 * read only when a policy in play has a condition on them.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 */
export function createParameterAccess(deps: Pick<SsmDeps, 'store' | 'authorizer'>) {
  async function authorizeParameter(ctx: RequestContext, action: string, name: string, conditions: RequestConditions = {}): Promise<string> {
    const arn = parameterArn(ctx.region, ctx.principal.accountId, name);
    await deps.authorizer.authorize(ctx, {
      action,
      resource: arn,
      resourceAccount: ctx.principal.accountId,
      context: conditions,
      costlyContext: {
        keyPrefixes: RESOURCE_TAG_KEYS,
        load: async () => resourceTagConditions((await deps.store.getParameterTags(ctx.principal.accountId, ctx.region, name)) ?? []),
      },
    });
    return arn;
  }

  /** An action without a resource (DescribeParameters). */
  async function authorizeAction(ctx: RequestContext, action: string): Promise<void> {
    await deps.authorizer.authorize(ctx, { action, resource: '*', resourceAccount: ctx.principal.accountId });
  }

  return { authorizeParameter, authorizeAction };
}

export type ParameterAccess = ReturnType<typeof createParameterAccess>;

function resourceTagConditions(tags: Tag[]): RequestConditions {
  const conditions: RequestConditions = {};
  for (const tag of tags) {
    conditions[`aws:ResourceTag/${tag.TagKey}`] = tag.TagValue;
    conditions[`ssm:resourceTag/${tag.TagKey}`] = tag.TagValue;
  }
  return conditions;
}

/** aws:RequestTag/<key> for each tag in the request and aws:TagKeys, the list of their keys (policy's requestTagContext). */
export function requestTagConditions(tags: ReadonlyArray<{ Key: string; Value: string }> | undefined): RequestConditions {
  return tags ? { ...requestTagContext(tags.map((tag) => [tag.Key, tag.Value])) } : {};
}
