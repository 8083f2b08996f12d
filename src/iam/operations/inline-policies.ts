import type { RequestContext } from '../../core/index.js';
import type { IamPrincipalKind } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { pageOf } from '../paging.js';
import { checkPolicyDocument, warnAboutStoredPolicy } from '../policy-documents.js';
import type { IamInput } from '../schemas.js';
import { createIamResourceCheck, notFound } from './callers.js';

/**
 * Put/Get/List/DeleteUserPolicy and the same for roles: one implementation per kind. Documents are validated
 * with the policy engine before they are stored, and returned URL-encoded as IAM returns them.
 */
export function inlinePolicyOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  function forKind(kind: IamPrincipalKind) {
    const missingPrincipal = (name: string) => (kind === 'user' ? notFound.user(name) : notFound.role(name));
    /** `iam:PutUserPolicy`, `iam:GetRolePolicy`, ... on the user or role. */
    const authorize = (ctx: RequestContext, verb: 'Put' | 'Get' | 'Delete' | 'List', name: string) =>
      check.authorize(ctx, `${verb}${kind === 'user' ? 'User' : 'Role'}${verb === 'List' ? 'Policies' : 'Policy'}`, kind, name);
    return {
      async put(ctx: RequestContext, name: string, policyName: string, document: string) {
        await authorize(ctx, 'Put', name);
        checkPolicyDocument(document, 'identity');
        if (!(await store.putInlinePolicy(ctx.principal.accountId, kind, name, { policyName, document }))) throw missingPrincipal(name);
        warnAboutStoredPolicy(deps.logger, ctx, `Put${kind === 'user' ? 'User' : 'Role'}Policy`, `${kind}/${name}`, document, 'identity');
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

  return {
    putUserPolicy: (ctx: RequestContext, input: IamInput<'PutUserPolicy'>) => users.put(ctx, input.UserName, input.PolicyName, input.PolicyDocument),
    getUserPolicy: async (ctx: RequestContext, input: IamInput<'GetUserPolicy'>) => ({ UserName: input.UserName, ...(await users.get(ctx, input.UserName, input.PolicyName)) }),
    listUserPolicies: (ctx: RequestContext, input: IamInput<'ListUserPolicies'>) => users.list(ctx, input.UserName, input),
    deleteUserPolicy: (ctx: RequestContext, input: IamInput<'DeleteUserPolicy'>) => users.delete(ctx, input.UserName, input.PolicyName),
    putRolePolicy: (ctx: RequestContext, input: IamInput<'PutRolePolicy'>) => roles.put(ctx, input.RoleName, input.PolicyName, input.PolicyDocument),
    getRolePolicy: async (ctx: RequestContext, input: IamInput<'GetRolePolicy'>) => ({ RoleName: input.RoleName, ...(await roles.get(ctx, input.RoleName, input.PolicyName)) }),
    listRolePolicies: (ctx: RequestContext, input: IamInput<'ListRolePolicies'>) => roles.list(ctx, input.RoleName, input),
    deleteRolePolicy: (ctx: RequestContext, input: IamInput<'DeleteRolePolicy'>) => roles.delete(ctx, input.RoleName, input.PolicyName),
  };
}
