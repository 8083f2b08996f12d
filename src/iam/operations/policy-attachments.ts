import type { RequestContext } from '../../core/index.js';
import type { IamPolicyOwnerKind } from '../../store/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { createIamResourceCheck, notFound } from './callers.js';
import { checkPolicyArn, policyNotAttachable, policyNotFound } from './policy-targets.js';

/**
 * Attach/DetachUserPolicy, Attach/DetachRolePolicy, Attach/DetachGroupPolicy and ListAttachedUser/Role/GroupPolicies:
 * managed policies (customer managed of the caller's account, or AWS managed) on users, roles and groups.
 * Authorized on the user's, role's or group's ARN, with the policy as iam:PolicyARN, as the service authorization
 * reference lists them; at most ten managed policies per user, role or group (IAM's default quotas
 * PoliciesPerUser/Role/Group). Attaching an attached policy again changes nothing. A group's policies apply to its
 * members (store getIamIdentity reads them with the user's own).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachGroupPolicy.html
 */
export function policyAttachmentOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);

  function forKind(kind: IamPolicyOwnerKind) {
    const noun = ({ user: 'User', role: 'Role', group: 'Group' } as const)[kind];
    const missing = (name: string) => notFound[kind](name);
    return {
      async attach(ctx: RequestContext, name: string, arn: string) {
        checkPolicyArn(arn);
        await check.authorize(ctx, `Attach${noun}Policy`, kind, name, undefined, { 'iam:PolicyARN': arn });
        const awsManaged = isAwsManagedPolicyArn(arn);
        if (awsManaged && !awsManagedPolicy(arn)) throw policyNotAttachable(arn);
        const outcome = await store.attachManagedPolicy(ctx.principal.accountId, kind, name, arn, IAM_LIMITS.managedPoliciesPerEntity, !awsManaged);
        if (outcome === 'no-entity') throw missing(name);
        if (outcome === 'no-policy') throw policyNotAttachable(arn);
        if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for PoliciesPer${noun}: ${IAM_LIMITS.managedPoliciesPerEntity}`);
        return {};
      },
      async detach(ctx: RequestContext, name: string, arn: string) {
        checkPolicyArn(arn);
        await check.authorize(ctx, `Detach${noun}Policy`, kind, name, undefined, { 'iam:PolicyARN': arn });
        const outcome = await store.detachManagedPolicy(ctx.principal.accountId, kind, name, arn);
        if (outcome === 'no-entity') throw missing(name);
        if (outcome === 'not-attached') throw policyNotFound(arn);
        return {};
      },
      async list(ctx: RequestContext, name: string, input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
        await check.authorize(ctx, `ListAttached${noun}Policies`, kind, name);
        const arns = await store.listAttachedManagedPolicies(ctx.principal.accountId, kind, name);
        if (!arns) throw missing(name);
        const attached = arns.map(attachedPolicyView).filter((policy) => policy.path.startsWith(input.PathPrefix ?? '/'));
        const page = pageOf(attached, input);
        return { AttachedPolicies: page.items.map(({ PolicyName, PolicyArn }) => ({ PolicyName, PolicyArn })), IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
    };
  }
  const users = forKind('user');
  const roles = forKind('role');
  const groups = forKind('group');

  return {
    attachUserPolicy: (ctx: RequestContext, input: IamInput<'AttachUserPolicy'>) => users.attach(ctx, input.UserName, input.PolicyArn),
    detachUserPolicy: (ctx: RequestContext, input: IamInput<'DetachUserPolicy'>) => users.detach(ctx, input.UserName, input.PolicyArn),
    listAttachedUserPolicies: (ctx: RequestContext, input: IamInput<'ListAttachedUserPolicies'>) => users.list(ctx, input.UserName, input),
    attachRolePolicy: (ctx: RequestContext, input: IamInput<'AttachRolePolicy'>) => roles.attach(ctx, input.RoleName, input.PolicyArn),
    detachRolePolicy: (ctx: RequestContext, input: IamInput<'DetachRolePolicy'>) => roles.detach(ctx, input.RoleName, input.PolicyArn),
    listAttachedRolePolicies: (ctx: RequestContext, input: IamInput<'ListAttachedRolePolicies'>) => roles.list(ctx, input.RoleName, input),
    attachGroupPolicy: (ctx: RequestContext, input: IamInput<'AttachGroupPolicy'>) => groups.attach(ctx, input.GroupName, input.PolicyArn),
    detachGroupPolicy: (ctx: RequestContext, input: IamInput<'DetachGroupPolicy'>) => groups.detach(ctx, input.GroupName, input.PolicyArn),
    listAttachedGroupPolicies: (ctx: RequestContext, input: IamInput<'ListAttachedGroupPolicies'>) => groups.list(ctx, input.GroupName, input),
  };
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachedPolicy.html, with the path the ARN carries (for PathPrefix). */
function attachedPolicyView(arn: string): { PolicyName: string; PolicyArn: string; path: string } {
  const afterPolicy = arn.slice(arn.indexOf(':policy/') + ':policy'.length);
  const lastSlash = afterPolicy.lastIndexOf('/');
  return { PolicyName: afterPolicy.slice(lastSlash + 1), PolicyArn: arn, path: afterPolicy.slice(0, lastSlash + 1) };
}
