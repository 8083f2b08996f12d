import type { RequestContext } from '../../core/index.js';
import type { IamDeps } from '../deps.js';
import { iamError } from '../errors.js';
import { userArn } from '../names.js';
import type { IamInput } from '../schemas.js';
import { roleView } from '../views.js';
import { createIamResourceCheck, notFound } from './callers.js';

/**
 * UpdateRole, UpdateRoleDescription and UpdateUser: a role's description and session length, a user's name and
 * path. The next AssumeRole reads the role's MaxSessionDuration from the store, so a change applies at once.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html
 */
export function principalUpdateOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);
  return {
    async updateRole(ctx: RequestContext, input: IamInput<'UpdateRole'>) {
      await check.authorize(ctx, 'UpdateRole', 'role', input.RoleName);
      const updated = await store.updateIamRole(ctx.principal.accountId, input.RoleName, {
        description: input.Description,
        maxSessionDurationSeconds: input.MaxSessionDuration,
      });
      if (!updated) throw notFound.role(input.RoleName);
      return {};
    },

    /** The older form of UpdateRole for the description alone; it answers the role as updated. */
    async updateRoleDescription(ctx: RequestContext, input: IamInput<'UpdateRoleDescription'>) {
      await check.authorize(ctx, 'UpdateRoleDescription', 'role', input.RoleName);
      const updated = await store.updateIamRole(ctx.principal.accountId, input.RoleName, { description: input.Description });
      if (!updated) throw notFound.role(input.RoleName);
      return { Role: roleView(updated) };
    },

    /**
     * Renames and/or moves a user; its id, access keys (which now authenticate as the new ARN), inline policies
     * and tags stay. "The requester must have appropriate permissions on both the source object and the target
     * object": iam:UpdateUser on the user's ARN and on the ARN it will have.
     */
    async updateUser(ctx: RequestContext, input: IamInput<'UpdateUser'>) {
      const accountId = ctx.principal.accountId;
      await check.authorize(ctx, 'UpdateUser', 'user', input.UserName);
      const user = await store.getIamUser(accountId, input.UserName);
      if (!user) throw notFound.user(input.UserName);
      const userName = input.NewUserName ?? user.userName;
      const path = input.NewPath ?? user.path;
      const next = { userName, path, arn: userArn(accountId, path, userName) };
      if (next.arn === user.arn) return {};
      if (userName.toUpperCase() !== user.userName.toUpperCase()) await check.authorize(ctx, 'UpdateUser', 'user', userName, path);
      else await check.authorizeOn(ctx, 'UpdateUser', next.arn);
      const outcome = await store.renameIamUser(accountId, user.userName, next);
      if (outcome === 'absent') throw notFound.user(input.UserName);
      if (outcome === 'name-taken') throw iamError('EntityAlreadyExists', `User with name ${userName} already exists.`);
      return {};
    },
  };
}
