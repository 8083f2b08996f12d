import type { RequestContext } from '../../core/index.js';
import type { IamPrincipalKind, IamTag } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { pageOf } from '../paging.js';
import { requestTagContext } from '../../policy/index.js';
import { createIamResourceCheck, iamRequestTags, notFound } from './callers.js';

/**
 * Tag<Noun>, List<Noun>Tags and Untag<Noun> for users and roles: the same rules, checked on the user's or role's
 * ARN, with the noun in the operation names and messages.
 */
export function principalTagOperations(deps: IamDeps, kind: IamPrincipalKind) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  const noun = kind === 'user' ? 'User' : 'Role';
  const missing = (name: string) => notFound[kind](name);
  const readTags = async (accountId: string, name: string) =>
    (kind === 'user' ? await store.getIamUser(accountId, name) : await store.getIamRole(accountId, name))?.tags;

  return {
    async tag(ctx: RequestContext, name: string, tags: IamTag[]) {
      await check.authorize(ctx, `Tag${noun}`, kind, name, undefined, iamRequestTags(tags));
      const outcome = await store.tagIamPrincipal(ctx.principal.accountId, kind, name, tags, IAM_LIMITS.tagsPerPrincipal);
      if (outcome === 'absent') throw missing(name);
      if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for TagsPer${noun}: ${IAM_LIMITS.tagsPerPrincipal}`);
      return {};
    },

    async listTags(ctx: RequestContext, name: string, paging: { Marker?: string; MaxItems?: number }) {
      await check.authorize(ctx, `List${noun}Tags`, kind, name);
      const tags = await readTags(ctx.principal.accountId, name);
      if (!tags) throw missing(name);
      const page = pageOf(tags, paging);
      return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    async untag(ctx: RequestContext, name: string, tagKeys: string[]) {
      await check.authorize(ctx, `Untag${noun}`, kind, name, undefined, requestTagContext(tagKeys.map((key) => [key, undefined])));
      if (!(await store.untagIamPrincipal(ctx.principal.accountId, kind, name, tagKeys))) throw missing(name);
      return {};
    },
  };
}
