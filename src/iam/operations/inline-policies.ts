import type { RequestContext } from '../../core/index.js';
import type { IamPolicyOwnerKind } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { pageOf } from '../paging.js';
import { checkPolicyDocument, warnAboutStoredPolicy } from '../policy-documents.js';
import type { IamInput } from '../schemas.js';
import { createIamResourceCheck, notFound } from './callers.js';

/** The noun of each owner kind in operation names: PutUserPolicy, GetRolePolicy, ListGroupPolicies. */
const NOUNS = { user: 'User', role: 'Role', group: 'Group' } as const;

/**
 * Put/Get/List/DeleteUserPolicy and the same for roles and groups: one implementation per kind. Documents are
 * validated with the policy engine before they are stored, and returned URL-encoded as IAM returns them.
 */
export function inlinePolicyOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  function forKind(kind: IamPolicyOwnerKind) {
    const missingPrincipal = (name: string) => notFound[kind](name);
    /** `iam:PutUserPolicy`, `iam:GetRolePolicy`, `iam:ListGroupPolicies`, ... on the user, role or group. */
    const authorize = (ctx: RequestContext, verb: 'Put' | 'Get' | 'Delete' | 'List', name: string) =>
      check.authorize(ctx, `${verb}${NOUNS[kind]}${verb === 'List' ? 'Policies' : 'Policy'}`, kind, name);
    return {
      async put(ctx: RequestContext, name: string, policyName: string, document: string) {
        await authorize(ctx, 'Put', name);
        checkPolicyDocument(document, 'identity');
        if (!(await store.putInlinePolicy(ctx.principal.accountId, kind, name, { policyName, document }))) throw missingPrincipal(name);
        warnAboutStoredPolicy(deps.logger, ctx, `Put${NOUNS[kind]}Policy`, `${kind}/${name}`, document, 'identity');
        return {};
      },
      async get(ctx: RequestContext, name: string, policyName: string) {
        await authorize(ctx, 'Get', name);
        const found = await store.getInlinePolicy(ctx.principal.accountId, kind, name, policyName);
        if (!found) throw missingPrincipal(name);
        if (!found.policy) throw notFound.policy(kind, policyName);
        return { PolicyName: found.policy.policyName, PolicyDocument: encodeURIComponent(found.policy.document) };
      },
      async list(ctx: RequestContext, name: string, paging: { Marker?: string; MaxItems?: number }) {
        await authorize(ctx, 'List', name);
        const names = await store.listInlinePolicyNames(ctx.principal.accountId, kind, name);
        if (!names) throw missingPrincipal(name);
        const page = pageOf(names, paging);
        return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
      async delete(ctx: RequestContext, name: string, policyName: string) {
        await authorize(ctx, 'Delete', name);
        const outcome = await store.deleteInlinePolicy(ctx.principal.accountId, kind, name, policyName);
        if (outcome === 'no-principal') throw missingPrincipal(name);
        if (outcome === 'no-policy') throw notFound.policy(kind, policyName);
        return {};
      },
    };
  }
  const users = forKind('user');
  const roles = forKind('role');
  const groups = forKind('group');

  return {
    putUserPolicy: (ctx: RequestContext, input: IamInput<'PutUserPolicy'>) => users.put(ctx, input.UserName, input.PolicyName, input.PolicyDocument),
    getUserPolicy: async (ctx: RequestContext, input: IamInput<'GetUserPolicy'>) => ({ UserName: input.UserName, ...(await users.get(ctx, input.UserName, input.PolicyName)) }),
    listUserPolicies: (ctx: RequestContext, input: IamInput<'ListUserPolicies'>) => users.list(ctx, input.UserName, input),
    deleteUserPolicy: (ctx: RequestContext, input: IamInput<'DeleteUserPolicy'>) => users.delete(ctx, input.UserName, input.PolicyName),
    putRolePolicy: (ctx: RequestContext, input: IamInput<'PutRolePolicy'>) => roles.put(ctx, input.RoleName, input.PolicyName, input.PolicyDocument),
    getRolePolicy: async (ctx: RequestContext, input: IamInput<'GetRolePolicy'>) => ({ RoleName: input.RoleName, ...(await roles.get(ctx, input.RoleName, input.PolicyName)) }),
    listRolePolicies: (ctx: RequestContext, input: IamInput<'ListRolePolicies'>) => roles.list(ctx, input.RoleName, input),
    deleteRolePolicy: (ctx: RequestContext, input: IamInput<'DeleteRolePolicy'>) => roles.delete(ctx, input.RoleName, input.PolicyName),
    putGroupPolicy: (ctx: RequestContext, input: IamInput<'PutGroupPolicy'>) => groups.put(ctx, input.GroupName, input.PolicyName, input.PolicyDocument),
    getGroupPolicy: async (ctx: RequestContext, input: IamInput<'GetGroupPolicy'>) => ({ GroupName: input.GroupName, ...(await groups.get(ctx, input.GroupName, input.PolicyName)) }),
    listGroupPolicies: (ctx: RequestContext, input: IamInput<'ListGroupPolicies'>) => groups.list(ctx, input.GroupName, input),
    deleteGroupPolicy: (ctx: RequestContext, input: IamInput<'DeleteGroupPolicy'>) => groups.delete(ctx, input.GroupName, input.PolicyName),
  };
}
