import type { RequestContext } from '../../core/index.js';
import type { IamDeps } from '../deps.js';
import { iamError } from '../errors.js';
import { newUniqueId, roleArn } from '../names.js';
import { pageOf } from '../paging.js';
import { checkPolicyDocument, warnAboutStoredPolicy } from '../policy-documents.js';
import type { IamInput } from '../schemas.js';
import { roleView } from '../views.js';
import { createIamResourceCheck, iamRequestTags, notFound } from './callers.js';
import { boundaryContext, checkBoundaryPolicy, permissionsBoundaryView } from './permissions-boundaries.js';
import { principalTagOperations } from './principal-tags.js';

/** The session length a role allows when CreateRole does not say: one hour, as IAM. */
const DEFAULT_MAX_SESSION_SECONDS = 3600;

/** CreateRole, GetRole, ListRoles, DeleteRole, TagRole, UntagRole. */
export function roleOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  const tags = principalTagOperations(deps, 'role');
  return {
    /** The trust policy is a resource policy: it must name who may assume the role. */
    async createRole(ctx: RequestContext, input: IamInput<'CreateRole'>) {
      const accountId = ctx.principal.accountId;
      const path = input.Path ?? '/';
      const boundary = input.PermissionsBoundary;
      await check.authorize(ctx, 'CreateRole', 'role', input.RoleName, path, { ...iamRequestTags(input.Tags), ...boundaryContext(boundary) });
      checkPolicyDocument(input.AssumeRolePolicyDocument, 'trust');
      if (boundary !== undefined) await checkBoundaryPolicy(store, ctx, boundary);
      const role = {
        accountId,
        roleName: input.RoleName,
        roleId: newUniqueId('AROA'),
        arn: roleArn(accountId, path, input.RoleName),
        path,
        assumeRolePolicyDocument: input.AssumeRolePolicyDocument,
        description: input.Description,
        maxSessionDurationSeconds: input.MaxSessionDuration ?? DEFAULT_MAX_SESSION_SECONDS,
        createdAt: ctx.clock.now(),
        tags: input.Tags ?? [],
        ...(boundary !== undefined && { permissionsBoundary: boundary }),
      };
      if (!(await store.createIamRole(role))) throw iamError('EntityAlreadyExists', `Role with name ${input.RoleName} already exists.`);
      warnAboutStoredPolicy(deps.logger, ctx, 'CreateRole', role.arn, input.AssumeRolePolicyDocument, 'trust');
      return { Role: { ...roleView(role), PermissionsBoundary: permissionsBoundaryView(role.permissionsBoundary) } };
    },

    async getRole(ctx: RequestContext, input: IamInput<'GetRole'>) {
      await check.authorize(ctx, 'GetRole', 'role', input.RoleName);
      const role = await store.getIamRole(ctx.principal.accountId, input.RoleName);
      if (!role) throw notFound.role(input.RoleName);
      return { Role: { ...roleView(role), PermissionsBoundary: permissionsBoundaryView(role.permissionsBoundary) } };
    },

    async listRoles(ctx: RequestContext, input: IamInput<'ListRoles'>) {
      const roles = await store.listIamRoles(ctx.principal.accountId, input.PathPrefix ?? '/');
      const page = pageOf(roles, input);
      return { Roles: page.items.map(roleView), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    async deleteRole(ctx: RequestContext, input: IamInput<'DeleteRole'>) {
      await check.authorize(ctx, 'DeleteRole', 'role', input.RoleName);
      const outcome = await store.deleteIamRole(ctx.principal.accountId, input.RoleName);
      if (outcome === 'absent') throw notFound.role(input.RoleName);
      if (outcome === 'has-attached-policies') throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (outcome !== 'deleted') throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      return {};
    },

    tagRole: (ctx: RequestContext, input: IamInput<'TagRole'>) => tags.tag(ctx, input.RoleName, input.Tags),

    /** The trust policy is replaced whole, validated like CreateRole's. */
    async updateAssumeRolePolicy(ctx: RequestContext, input: IamInput<'UpdateAssumeRolePolicy'>) {
      await check.authorize(ctx, 'UpdateAssumeRolePolicy', 'role', input.RoleName);
      checkPolicyDocument(input.PolicyDocument, 'trust');
      if (!(await store.updateAssumeRolePolicy(ctx.principal.accountId, input.RoleName, input.PolicyDocument))) throw notFound.role(input.RoleName);
      warnAboutStoredPolicy(deps.logger, ctx, 'UpdateAssumeRolePolicy', `role/${input.RoleName}`, input.PolicyDocument, 'trust');
      return {};
    },

    listRoleTags: (ctx: RequestContext, input: IamInput<'ListRoleTags'>) => tags.listTags(ctx, input.RoleName, input),

    untagRole: (ctx: RequestContext, input: IamInput<'UntagRole'>) => tags.untag(ctx, input.RoleName, input.TagKeys),
  };
}
