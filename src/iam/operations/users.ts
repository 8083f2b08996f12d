import type { RequestContext } from '../../core/index.js';
import type { IamDeps } from '../deps.js';
import { iamError } from '../errors.js';
import { newUniqueId, userArn } from '../names.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { principalName } from '../identity-policies.js';
import { userView } from '../views.js';
import { createIamResourceCheck, iamRequestTags, notFound } from './callers.js';
import { boundaryContext, checkBoundaryPolicy, permissionsBoundaryView } from './permissions-boundaries.js';
import { principalTagOperations } from './principal-tags.js';

/** CreateUser, GetUser, ListUsers, DeleteUser, TagUser, UntagUser. */
export function userOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  const tags = principalTagOperations(deps, 'user');
  return {
    async createUser(ctx: RequestContext, input: IamInput<'CreateUser'>) {
      const accountId = ctx.principal.accountId;
      const path = input.Path ?? '/';
      const boundary = input.PermissionsBoundary;
      await check.authorize(ctx, 'CreateUser', 'user', input.UserName, path, { ...iamRequestTags(input.Tags), ...boundaryContext(boundary) });
      if (boundary !== undefined) await checkBoundaryPolicy(store, ctx, boundary);
      const user = {
        accountId,
        userName: input.UserName,
        userId: newUniqueId('AIDA'),
        arn: userArn(accountId, path, input.UserName),
        path,
        createdAt: ctx.clock.now(),
        tags: input.Tags ?? [],
        ...(boundary !== undefined && { permissionsBoundary: boundary }),
      };
      if (!(await store.createIamUser(user))) throw iamError('EntityAlreadyExists', `User with name ${input.UserName} already exists.`);
      return { User: { ...userView(user), PermissionsBoundary: permissionsBoundaryView(user.permissionsBoundary) } };
    },

    /** Without UserName: the caller itself (a user, or the account root as IAM describes it). */
    async getUser(ctx: RequestContext, input: IamInput<'GetUser'>) {
      const caller = principalName(ctx.principal.arn);
      const userName = input.UserName ?? (caller.kind === 'user' ? caller.name : undefined);
      if (userName === undefined) {
        if (caller.kind === 'root') {
          await check.authorizeOnCaller(ctx, 'GetUser');
          return { User: { UserId: ctx.principal.accountId, Arn: ctx.principal.arn } };
        }
        throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
      }
      await check.authorize(ctx, 'GetUser', 'user', userName);
      const user = await store.getIamUser(ctx.principal.accountId, userName);
      if (!user) throw notFound.user(userName);
      return { User: { ...userView(user), PermissionsBoundary: permissionsBoundaryView(user.permissionsBoundary) } };
    },

    async listUsers(ctx: RequestContext, input: IamInput<'ListUsers'>) {
      const users = await store.listIamUsers(ctx.principal.accountId, input.PathPrefix ?? '/');
      const page = pageOf(users, input);
      return { Users: page.items.map(userView), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    /** IAM refuses to delete a user that still has access keys, inline or attached policies, or is in a group (DeleteConflict). */
    async deleteUser(ctx: RequestContext, input: IamInput<'DeleteUser'>) {
      await check.authorize(ctx, 'DeleteUser', 'user', input.UserName);
      const outcome = await store.deleteIamUser(ctx.principal.accountId, input.UserName);
      if (outcome === 'absent') throw notFound.user(input.UserName);
      if (outcome === 'has-access-keys') throw iamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
      if (outcome === 'has-policies') throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      if (outcome === 'has-attached-policies') throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (outcome === 'in-groups') throw iamError('DeleteConflict', 'Cannot delete entity, must remove user from all groups first.');
      return {};
    },

    tagUser: (ctx: RequestContext, input: IamInput<'TagUser'>) => tags.tag(ctx, input.UserName, input.Tags),

    listUserTags: (ctx: RequestContext, input: IamInput<'ListUserTags'>) => tags.listTags(ctx, input.UserName, input),

    untagUser: (ctx: RequestContext, input: IamInput<'UntagUser'>) => tags.untag(ctx, input.UserName, input.TagKeys),
  };
}
