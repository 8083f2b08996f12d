import type { RequestContext } from '../../core/index.js';
import { requestTagContext, type RequestContextValues } from '../../policy/index.js';
import type { IamPolicyOwnerKind, IamTag } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { principalName } from '../identity-policies.js';
import { iamError } from '../errors.js';
import { groupArn, roleArn, userArn } from '../names.js';

/**
 * Whose access keys an operation without UserName is about: the calling user's own, or the account root's.
 * IAM refuses the omission for other callers (role sessions).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html
 */
export type KeyOwner = { kind: 'user'; userName: string } | { kind: 'root' };

export function keyOwner(ctx: RequestContext, userName: string | undefined): KeyOwner {
  if (userName !== undefined) return { kind: 'user', userName };
  const caller = principalName(ctx.principal.arn);
  if (caller.kind === 'user') return { kind: 'user', userName: caller.name };
  if (caller.kind === 'root') return { kind: 'root' };
  throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
}

/** aws:RequestTag/<key> and aws:TagKeys of a call that sets tags (CreateUser, TagRole, ...); none without tags. */
export function iamRequestTags(tags: readonly IamTag[] | undefined): RequestContextValues | undefined {
  return tags?.length ? requestTagContext(tags.map((tag) => [tag.Key, tag.Value])) : undefined;
}

/**
 * The target user's or role's tags, as aws:ResourceTag/<key> and iam:ResourceTag/<key>.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html
 */
export function resourceTagContext(tags: readonly IamTag[]): RequestContextValues {
  const context: Record<string, string> = {};
  for (const tag of tags) {
    context[`aws:ResourceTag/${tag.Key}`] = tag.Value;
    context[`iam:ResourceTag/${tag.Key}`] = tag.Value;
  }
  return context;
}

/**
 * The operations whose requests carry iam:PermissionsBoundary: the target's current boundary, or the one the
 * request sets (CreateUser, CreateRole, Put*PermissionsBoundary pass it themselves), so a policy can let a
 * delegated administrator manage only users and roles bounded by a given policy.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_permissionsboundary
 */
const BOUNDARY_KEYED: ReadonlySet<string> = new Set(
  ['User', 'Role'].flatMap((noun) => [
    `Create${noun}`,
    `Put${noun}PermissionsBoundary`,
    `Delete${noun}PermissionsBoundary`,
    `Attach${noun}Policy`,
    `Detach${noun}Policy`,
    `Put${noun}Policy`,
    `Delete${noun}Policy`,
  ]),
);

export const notFound = {
  user: (name: string) => iamError('NoSuchEntity', `The user with name ${name} cannot be found.`),
  role: (name: string) => iamError('NoSuchEntity', `The role with name ${name} cannot be found.`),
  group: (name: string) => iamError('NoSuchEntity', `The group with name ${name} cannot be found.`),
  policy: (kind: IamPolicyOwnerKind, policyName: string) => iamError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`),
  accessKey: (accessKeyId: string) => iamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`),
};

/**
 * Resource-level authorization of an IAM operation on a user, role or group of the caller's account, as IAM does
 * (`iam:DeleteUser` on `arn:aws:iam::<account>:user/<path><name>`), so a policy may grant management of
 * `user/app/*` only. The ARN of an existing principal carries its path; one that does not exist (yet) is
 * named with the path given, or `/`, and is checked before the caller learns that it is missing.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export function createIamResourceCheck({ store, authorizer }: Pick<IamDeps, 'store' | 'authorizer'>) {
  /** The ARN and tags of the user, role or group named; a missing one is named by the path given (or `/`), with no tags. */
  async function targetOf(
    ctx: RequestContext,
    kind: IamPolicyOwnerKind,
    name: string,
    path = '/',
  ): Promise<{ arn: string; tags: readonly IamTag[]; permissionsBoundary?: string }> {
    const accountId = ctx.principal.accountId;
    if (kind === 'group') {
      // Groups have no tags (IAM cannot tag them), so a group's ARN is all a policy can match on.
      return { arn: (await store.getIamGroup(accountId, name))?.arn ?? groupArn(accountId, path, name), tags: [] };
    }
    const found = kind === 'user' ? await store.getIamUser(accountId, name) : await store.getIamRole(accountId, name);
    if (found) return found;
    return { arn: kind === 'user' ? userArn(accountId, path, name) : roleArn(accountId, path, name), tags: [] };
  }

  return {
    /** Authorizes `iam:<operation>` on the user, role or group named; resolves when allowed. */
    async authorize(ctx: RequestContext, operation: string, kind: IamPolicyOwnerKind, name: string, path?: string, context?: RequestContextValues): Promise<void> {
      const target = await targetOf(ctx, kind, name, path);
      const boundary = target.permissionsBoundary !== undefined && BOUNDARY_KEYED.has(operation) ? { 'iam:PermissionsBoundary': target.permissionsBoundary } : {};
      await authorizer.authorize(ctx, {
        action: `iam:${operation}`,
        resource: target.arn,
        resourceAccount: ctx.principal.accountId,
        context: { ...resourceTagContext(target.tags), ...boundary, ...context },
      });
    },
    /** `iam:<operation>` on an ARN of the caller's account that names no stored entity (UpdateUser's and UpdateGroup's new ARN). */
    async authorizeOn(ctx: RequestContext, operation: string, arn: string): Promise<void> {
      await authorizer.authorize(ctx, { action: `iam:${operation}`, resource: arn, resourceAccount: ctx.principal.accountId });
    },
    /** The account root's own keys: the root's ARN is the resource. */
    async authorizeOnCaller(ctx: RequestContext, operation: string): Promise<void> {
      await authorizer.authorize(ctx, { action: `iam:${operation}`, resource: ctx.principal.arn, resourceAccount: ctx.principal.accountId });
    },
  };
}

export type IamResourceCheck = ReturnType<typeof createIamResourceCheck>;
