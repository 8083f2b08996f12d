import { commonError, type RequestContext } from '../../core/index.js';
import type { RequestContextValues } from '../../policy/index.js';
import type { IamTag, ManagedPolicyRecord, ManagedPolicyUsage } from '../../store/index.js';
import { awsManagedPolicy, isAwsManagedPolicyArn, type AwsManagedPolicy } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import { iamError } from '../errors.js';
import { parsePolicyArn } from '../names.js';

/** A managed policy as the operations see it: AWS's (read-only, in code) or the account's own (a store row). */
export type ManagedPolicyTarget = { kind: 'aws'; policy: AwsManagedPolicy } | { kind: 'customer'; policy: ManagedPolicyRecord };

export const policyNotFound = (arn: string) => iamError('NoSuchEntity', `Policy ${arn} was not found.`);
export const policyNotAttachable = (arn: string) => iamError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);

/** A PolicyArn that is not an IAM policy ARN: IAM's InvalidInput. */
export function checkPolicyArn(arn: string): void {
  if (!parsePolicyArn(arn)) throw iamError('InvalidInput', `ARN ${arn} is not valid.`);
}

/**
 * AWS managed policies cannot be changed: IAM refuses CreatePolicyVersion, DeletePolicy, TagPolicy and the like
 * on them whoever asks (the account root included), with AccessDenied.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
 */
export function refuseAwsManaged(ctx: RequestContext, operation: string, arn: string): void {
  if (isAwsManagedPolicyArn(arn)) {
    throw commonError('AccessDeniedException', `User: ${ctx.principal.arn} is not authorized to perform: iam:${operation} on resource: policy ${arn} (an AWS managed policy cannot be changed)`);
  }
}

/**
 * Resource-level authorization on managed policies: `iam:<Operation>` on the policy's ARN, with its tags as
 * aws:ResourceTag/*. AWS managed policies are in every account's view, so they are checked as a resource of the
 * caller's account (an identity policy may allow `arn:aws:iam::aws:policy/*`); another account's customer policy
 * is a resource of that account, which no identity policy alone can open (IAM policies have no resource policy).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export function createPolicyAccess({ store, authorizer }: Pick<IamDeps, 'store' | 'authorizer'>) {
  /** The policy an ARN names, when it exists (AWS managed: in the table; customer: a row). */
  async function find(arn: string): Promise<ManagedPolicyTarget | undefined> {
    if (isAwsManagedPolicyArn(arn)) {
      const policy = awsManagedPolicy(arn);
      return policy && { kind: 'aws', policy };
    }
    const policy = await store.getManagedPolicy(arn);
    return policy && { kind: 'customer', policy };
  }

  async function authorize(ctx: RequestContext, operation: string, arn: string, tags: readonly IamTag[], context?: RequestContextValues): Promise<void> {
    const account = parsePolicyArn(arn)?.accountId;
    const resourceAccount = account === undefined || account === 'aws' ? ctx.principal.accountId : account;
    const tagContext: Record<string, string> = {};
    for (const tag of tags) tagContext[`aws:ResourceTag/${tag.Key}`] = tag.Value;
    await authorizer.authorize(ctx, { action: `iam:${operation}`, resource: arn, resourceAccount, context: { ...tagContext, ...context } });
  }

  return {
    find,
    /** Checks the ARN's form, authorizes `iam:<operation>` on it, then answers the policy or NoSuchEntity. */
    async authorizeExisting(ctx: RequestContext, operation: string, arn: string, context?: RequestContextValues): Promise<ManagedPolicyTarget> {
      checkPolicyArn(arn);
      const target = await find(arn);
      await authorize(ctx, operation, arn, target?.kind === 'customer' ? target.policy.tags : [], context);
      if (!target) throw policyNotFound(arn);
      return target;
    },
    authorize,
  };
}

/** How often the account uses a policy: attached, and as a permissions boundary. */
export function usageOf(usage: readonly ManagedPolicyUsage[], arn: string): { AttachmentCount: number; PermissionsBoundaryUsageCount: number } {
  const found = usage.find((entry) => entry.policyArn === arn);
  return { AttachmentCount: found?.attachmentCount ?? 0, PermissionsBoundaryUsageCount: found?.permissionsBoundaryUsageCount ?? 0 };
}

/**
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html. `full`: GetPolicy and CreatePolicy answer
 * Description and Tags; ListPolicies does not ("IAM resource-listing operations return a subset").
 */
export function policyView(target: ManagedPolicyTarget, usage: readonly ManagedPolicyUsage[], full: boolean) {
  const { policy } = target;
  const tags = target.kind === 'customer' ? target.policy.tags : [];
  return {
    PolicyName: policy.policyName,
    PolicyId: policy.policyId,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    ...usageOf(usage, policy.arn),
    IsAttachable: true,
    Description: full ? policy.description : undefined,
    CreateDate: policy.createdAt,
    UpdateDate: policy.updatedAt,
    Tags: full && tags.length > 0 ? tags : undefined,
  };
}
