import type { RequestContext } from '../../core/index.js';
import type { IamDeps } from '../deps.js';
import { IAM_LIMITS, iamError } from '../errors.js';
import { groupArn, newUniqueId } from '../names.js';
import { pageOf } from '../paging.js';
import type { IamInput } from '../schemas.js';
import { groupView, userView } from '../views.js';
import { createIamResourceCheck, notFound } from './callers.js';

/**
 * CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, AddUserToGroup, RemoveUserFromGroup and
 * ListGroupsForUser. A group is a set of users whose inline policies (inline-policies.ts) apply to every member
 * on its next request (the identity side reads them with the user's own: store getIamIdentity). A group is not
 * a principal: nothing signs as a group and a resource policy cannot name one (policy/validate.ts).
 * Each call is authorized as `iam:<Operation>` on the group's ARN (AddUserToGroup and RemoveUserFromGroup too),
 * ListGroupsForUser on the user's, ListGroups by the pipeline on `*`, as ListUsers.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 */
export function groupOperations(deps: IamDeps) {
  const { store } = deps;
  const check = createIamResourceCheck(deps);

  return {
    /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html */
    async createGroup(ctx: RequestContext, input: IamInput<'CreateGroup'>) {
      const accountId = ctx.principal.accountId;
      const path = input.Path ?? '/';
      await check.authorize(ctx, 'CreateGroup', 'group', input.GroupName, path);
      const group = {
        accountId,
        groupName: input.GroupName,
        groupId: newUniqueId('AGPA'),
        arn: groupArn(accountId, path, input.GroupName),
        path,
        createdAt: ctx.clock.now(),
      };
      const outcome = await store.createIamGroup(group, IAM_LIMITS.groupsPerAccount);
      if (outcome === 'exists') throw iamError('EntityAlreadyExists', `Group with name ${input.GroupName} already exists.`);
      if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for GroupsPerAccount: ${IAM_LIMITS.groupsPerAccount}`);
      return { Group: groupView(group) };
    },

    /** The group and its members, the members paged. https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetGroup.html */
    async getGroup(ctx: RequestContext, input: IamInput<'GetGroup'>) {
      await check.authorize(ctx, 'GetGroup', 'group', input.GroupName);
      const found = await store.getIamGroupWithMembers(ctx.principal.accountId, input.GroupName);
      if (!found) throw notFound.group(input.GroupName);
      const page = pageOf(found.members, input);
      return { Group: groupView(found.group), Users: page.items.map(memberView), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    async listGroups(ctx: RequestContext, input: IamInput<'ListGroups'>) {
      const groups = await store.listIamGroups(ctx.principal.accountId, input.PathPrefix ?? '/');
      const page = pageOf(groups, input);
      return { Groups: page.items.map(groupView), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },

    /**
     * Renames and/or moves a group; its id, members and policies stay. The caller needs iam:UpdateGroup on
     * both the group as it is and as it will be named, as AWS documents.
     * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html
     */
    async updateGroup(ctx: RequestContext, input: IamInput<'UpdateGroup'>) {
      const accountId = ctx.principal.accountId;
      await check.authorize(ctx, 'UpdateGroup', 'group', input.GroupName);
      const current = await store.getIamGroup(accountId, input.GroupName);
      if (!current) throw notFound.group(input.GroupName);
      const newName = input.NewGroupName ?? current.groupName;
      const newPath = input.NewPath ?? current.path;
      await check.authorizeOn(ctx, 'UpdateGroup', groupArn(accountId, newPath, newName));
      const updated = await store.updateIamGroup(accountId, input.GroupName, { newName: input.NewGroupName, newPath: input.NewPath });
      if (updated.outcome === 'absent') throw notFound.group(input.GroupName);
      if (updated.outcome === 'name-taken') throw iamError('EntityAlreadyExists', `Group with name ${newName} already exists.`);
      return {};
    },

    /** IAM refuses to delete a group that still has members, inline or attached managed policies (DeleteConflict). */
    async deleteGroup(ctx: RequestContext, input: IamInput<'DeleteGroup'>) {
      await check.authorize(ctx, 'DeleteGroup', 'group', input.GroupName);
      const outcome = await store.deleteIamGroup(ctx.principal.accountId, input.GroupName);
      if (outcome === 'absent') throw notFound.group(input.GroupName);
      if (outcome === 'has-members') throw iamError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      if (outcome === 'has-policies') throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      if (outcome === 'has-attached-policies') throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      return {};
    },

    /** Adding a member again succeeds and changes nothing. A user is in at most 10 groups (LimitExceeded). */
    async addUserToGroup(ctx: RequestContext, input: IamInput<'AddUserToGroup'>) {
      await check.authorize(ctx, 'AddUserToGroup', 'group', input.GroupName);
      const outcome = await store.addUserToGroup(ctx.principal.accountId, input.GroupName, input.UserName, IAM_LIMITS.groupsPerUser);
      if (outcome === 'no-group') throw notFound.group(input.GroupName);
      if (outcome === 'no-user') throw notFound.user(input.UserName);
      if (outcome === 'limit-exceeded') throw iamError('LimitExceeded', `Cannot exceed quota for GroupsPerUser: ${IAM_LIMITS.groupsPerUser}`);
      return {};
    },

    /**
     * A user who is not in the group is NoSuchEntity: AWS's documentation does not say, and an error tells the
     * caller that nothing was removed (the safe answer).
     */
    async removeUserFromGroup(ctx: RequestContext, input: IamInput<'RemoveUserFromGroup'>) {
      await check.authorize(ctx, 'RemoveUserFromGroup', 'group', input.GroupName);
      const outcome = await store.removeUserFromGroup(ctx.principal.accountId, input.GroupName, input.UserName);
      if (outcome === 'no-group') throw notFound.group(input.GroupName);
      if (outcome === 'no-user') throw notFound.user(input.UserName);
      if (outcome === 'not-member') throw iamError('NoSuchEntity', `The user with name ${input.UserName} is not in group ${input.GroupName}.`);
      return {};
    },

    /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListGroupsForUser.html */
    async listGroupsForUser(ctx: RequestContext, input: IamInput<'ListGroupsForUser'>) {
      await check.authorize(ctx, 'ListGroupsForUser', 'user', input.UserName);
      const groups = await store.listIamGroupsForUser(ctx.principal.accountId, input.UserName);
      if (!groups) throw notFound.user(input.UserName);
      const page = pageOf(groups, input);
      return { Groups: page.items.map(groupView), IsTruncated: page.IsTruncated, Marker: page.Marker };
    },
  };
}

/** A member as GetGroup lists it: the User shape without tags (GetGroup does not return them). */
function memberView(user: Parameters<typeof userView>[0]) {
  const { Tags: _tags, ...member } = userView(user);
  return member;
}
