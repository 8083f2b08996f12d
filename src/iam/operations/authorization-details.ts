import type { RequestContext } from '../../core/index.js';
import type { IamGroupRecord, IamPrincipalKind, ManagedPolicyUsage, ManagedPolicyVersionRecord } from '../../store/index.js';
import { AWS_MANAGED_POLICIES } from '../aws-managed-policies.js';
import type { IamDeps } from '../deps.js';
import { groupPolicies } from '../group-policies.js';
import { pageOf } from '../paging.js';
import type { AUTHORIZATION_DETAIL_ENTITIES, IamInput } from '../schemas.js';
import { permissionsBoundaryView } from './permissions-boundaries.js';
import { policyView, type ManagedPolicyTarget } from './policy-targets.js';

type EntityType = (typeof AUTHORIZATION_DETAIL_ENTITIES)[number];
type DetailList = 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies';

/** One entry of the answer, with the list it goes in; paging counts entries across all lists, in the order of the entity types. */
type Detail = { list: DetailList; item: object };

/** A function that lists one entity type's details for an account. */
type DetailSource = (accountId: string) => Promise<Detail[]>;

/**
 * GetAccountAuthorizationDetails: every user, group and role of the account with its inline policies, attached
 * managed policies (and for users and roles tags and permissions boundary; for users their groups), and the
 * managed policies with all their versions: the account's own (LocalManagedPolicy) and the AWS managed ones the
 * account uses (AWSManagedPolicy: IAM lists only those attached or set as a boundary somewhere in the account).
 * Each entity type is one DetailSource. Policy documents are URL-encoded, as IAM returns them. Authorized as
 * iam:GetAccountAuthorizationDetails on `*` by the pipeline.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export function authorizationDetailsOperations(deps: IamDeps) {
  const { store } = deps;

  /** The principal's own inline policies (a user's identity read also carries its groups', listed with the groups). */
  async function inlinePolicies(accountId: string, kind: IamPrincipalKind, name: string) {
    const identity = await store.getIamIdentity(accountId, kind, name);
    if (!identity) return [];
    return identity.policyDocuments.flatMap((document, index) =>
      identity.policyOwners?.[index] === 'group' ? [] : [{ PolicyName: identity.policyNames?.[index], PolicyDocument: encodeURIComponent(document) }],
    );
  }

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachedPolicy.html */
  async function attachedPolicies(accountId: string, kind: 'user' | 'role' | 'group', name: string) {
    const arns = (await store.listAttachedManagedPolicies(accountId, kind, name)) ?? [];
    return arns.map((arn) => ({ PolicyName: arn.slice(arn.lastIndexOf('/') + 1), PolicyArn: arn }));
  }

  const users: DetailSource = async (accountId) =>
    Promise.all(
      (await store.listIamUsers(accountId, '/')).map(async (user) => ({
        list: 'UserDetailList' as const,
        item: {
          Path: user.path,
          UserName: user.userName,
          UserId: user.userId,
          Arn: user.arn,
          CreateDate: user.createdAt,
          UserPolicyList: await inlinePolicies(accountId, 'user', user.userName),
          GroupList: ((await store.listIamGroupsForUser(accountId, user.userName)) ?? []).map((group) => group.groupName),
          AttachedManagedPolicies: await attachedPolicies(accountId, 'user', user.userName),
          PermissionsBoundary: permissionsBoundaryView(user.permissionsBoundary),
          Tags: user.tags,
        },
      })),
    );

  const roles: DetailSource = async (accountId) =>
    Promise.all(
      (await store.listIamRoles(accountId, '/')).map(async (role) => ({
        list: 'RoleDetailList' as const,
        item: {
          Path: role.path,
          RoleName: role.roleName,
          RoleId: role.roleId,
          Arn: role.arn,
          CreateDate: role.createdAt,
          AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
          InstanceProfileList: [],
          RolePolicyList: await inlinePolicies(accountId, 'role', role.roleName),
          AttachedManagedPolicies: await attachedPolicies(accountId, 'role', role.roleName),
          PermissionsBoundary: permissionsBoundaryView(role.permissionsBoundary),
          Tags: role.tags,
        },
      })),
    );

  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_GroupDetail.html */
  const groups: DetailSource = async (accountId) =>
    Promise.all(
      (await store.listIamGroups(accountId, '/')).map(async (group) => ({ list: 'GroupDetailList' as const, item: await groupDetail(accountId, group) })),
    );

  async function groupDetail(accountId: string, group: IamGroupRecord) {
    const policies = (await groupPolicies(store, accountId, group.groupName)) ?? [];
    return {
      Path: group.path,
      GroupName: group.groupName,
      GroupId: group.groupId,
      Arn: group.arn,
      CreateDate: group.createdAt,
      GroupPolicyList: policies.flatMap((policy) => (policy.kind === 'inline' ? [{ PolicyName: policy.policyName, PolicyDocument: encodeURIComponent(policy.document) }] : [])),
      AttachedManagedPolicies: await attachedPolicies(accountId, 'group', group.groupName),
    };
  }

  const localPolicies: DetailSource = async (accountId) => {
    const usage = await store.listManagedPolicyUsage(accountId);
    return Promise.all(
      (await store.listManagedPolicies(accountId, '/')).map(async (policy) =>
        policyDetail({ kind: 'customer', policy }, usage, (await store.listManagedPolicyVersions(policy.arn)) ?? []),
      ),
    );
  };

  /** Only the AWS managed policies the account uses: IAM does not list the hundreds of others here. */
  const awsPolicies: DetailSource = async (accountId) => {
    const usage = await store.listManagedPolicyUsage(accountId);
    const used = new Set(usage.filter((entry) => entry.attachmentCount + entry.permissionsBoundaryUsageCount > 0).map((entry) => entry.policyArn));
    return AWS_MANAGED_POLICIES.filter((policy) => used.has(policy.arn)).map((policy) =>
      // An AWS managed policy has one version here, its default (as ListPolicyVersions answers).
      policyDetail({ kind: 'aws', policy }, usage, [{ versionId: policy.defaultVersionId, document: policy.document, isDefaultVersion: true, createdAt: policy.updatedAt }]),
    );
  };

  const sources: Record<EntityType, DetailSource> = { User: users, Group: groups, Role: roles, LocalManagedPolicy: localPolicies, AWSManagedPolicy: awsPolicies };
  const ORDER: readonly EntityType[] = ['User', 'Group', 'Role', 'LocalManagedPolicy', 'AWSManagedPolicy'];

  return {
    async getAccountAuthorizationDetails(ctx: RequestContext, input: IamInput<'GetAccountAuthorizationDetails'>) {
      const wanted = input.Filter?.length ? new Set(input.Filter) : new Set(ORDER);
      const details: Detail[] = [];
      for (const type of ORDER) if (wanted.has(type)) details.push(...(await sources[type](ctx.principal.accountId)));
      const page = pageOf(details, input);
      const listed = (list: DetailList) => page.items.filter((detail) => detail.list === list).map((detail) => detail.item);
      return {
        UserDetailList: listed('UserDetailList'),
        GroupDetailList: listed('GroupDetailList'),
        RoleDetailList: listed('RoleDetailList'),
        Policies: listed('Policies'),
        IsTruncated: page.IsTruncated,
        Marker: page.Marker,
      };
    },
  };
}

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_ManagedPolicyDetail.html: the Policy shape and every version. */
function policyDetail(target: ManagedPolicyTarget, usage: readonly ManagedPolicyUsage[], versions: readonly ManagedPolicyVersionRecord[]): Detail {
  const { Tags: _tags, ...policy } = policyView(target, usage, true);
  const PolicyVersionList = versions.map((version) => ({
    Document: encodeURIComponent(version.document),
    VersionId: version.versionId,
    IsDefaultVersion: version.isDefaultVersion,
    CreateDate: version.createdAt,
  }));
  return { list: 'Policies', item: { ...policy, PolicyVersionList } };
}
