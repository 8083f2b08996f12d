import type { RequestContext } from '../../core/index.js';
import type { IamPrincipalKind } from '../../store/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import type { IamInput } from '../schemas.js';
import { createIamResourceCheck, notFound } from './callers.js';
import { checkPolicyArn, policyNotAttachable } from './policy-targets.js';

/**
 * A permissions boundary is a managed policy (customer managed of the account, or AWS managed) that caps what a
 * user's or role's identity policies can allow; it grants nothing itself. It must exist when it is set
 * (CreateUser, CreateRole, Put*PermissionsBoundary); deleted later, it allows nothing (identity-policies.ts).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 */
export async function checkBoundaryPolicy(store: IamDeps['store'], ctx: RequestContext, arn: string): Promise<void> {
  checkPolicyArn(arn);
  if (isAwsManagedPolicyArn(arn)) {
    if (!awsManagedPolicy(arn)) throw policyNotAttachable(arn);
    return;
  }
  const policy = await store.getManagedPolicy(arn);
  if (!policy || policy.accountId !== ctx.principal.accountId) throw policyNotAttachable(arn);
}

/** iam:PermissionsBoundary of a request that sets a boundary (CreateUser, CreateRole). */
export function boundaryContext(boundary: string | undefined): Record<string, string> {
  return boundary === undefined ? {} : { 'iam:PermissionsBoundary': boundary };
}

/** The PermissionsBoundary member of GetUser's and GetRole's answers. https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachedPermissionsBoundary.html */
export function permissionsBoundaryView(arn: string | undefined) {
  return arn === undefined ? undefined : { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn };
}

/**
 * Put/DeleteUserPermissionsBoundary and Put/DeleteRolePermissionsBoundary, authorized on the user's or role's ARN
 * with iam:PermissionsBoundary (the boundary being set, or the one being removed).
 */
export function permissionsBoundaryOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);

  function forKind(kind: IamPrincipalKind) {
    const noun = kind === 'user' ? 'User' : 'Role';
    return {
      async put(ctx: RequestContext, name: string, arn: string) {
        checkPolicyArn(arn);
        await check.authorize(ctx, `Put${noun}PermissionsBoundary`, kind, name, undefined, { 'iam:PermissionsBoundary': arn });
        await checkBoundaryPolicy(store, ctx, arn);
        if (!(await store.setPermissionsBoundary(ctx.principal.accountId, kind, name, arn))) throw notFound[kind](name);
        return {};
      },
      async delete(ctx: RequestContext, name: string) {
        await check.authorize(ctx, `Delete${noun}PermissionsBoundary`, kind, name);
        if (!(await store.setPermissionsBoundary(ctx.principal.accountId, kind, name, undefined))) throw notFound[kind](name);
        return {};
      },
    };
  }
  const users = forKind('user');
  const roles = forKind('role');

  return {
    putUserPermissionsBoundary: (ctx: RequestContext, input: IamInput<'PutUserPermissionsBoundary'>) => users.put(ctx, input.UserName, input.PermissionsBoundary),
    deleteUserPermissionsBoundary: (ctx: RequestContext, input: IamInput<'DeleteUserPermissionsBoundary'>) => users.delete(ctx, input.UserName),
    putRolePermissionsBoundary: (ctx: RequestContext, input: IamInput<'PutRolePermissionsBoundary'>) => roles.put(ctx, input.RoleName, input.PermissionsBoundary),
    deleteRolePermissionsBoundary: (ctx: RequestContext, input: IamInput<'DeleteRolePermissionsBoundary'>) => roles.delete(ctx, input.RoleName),
  };
}
