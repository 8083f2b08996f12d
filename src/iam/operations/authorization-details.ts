import type { RequestContext } from '../../core/index.js';
import type { IamPrincipalKind } from '../../store/index.js';
import type { IamDeps } from '../deps.js';
import { pageOf } from '../paging.js';
import type { AUTHORIZATION_DETAIL_ENTITIES, IamInput } from '../schemas.js';

type EntityType = (typeof AUTHORIZATION_DETAIL_ENTITIES)[number];
type DetailList = 'UserDetailList' | 'GroupDetailList' | 'RoleDetailList' | 'Policies';

/** One entry of the answer, with the list it goes in; paging counts entries across all lists, in the order of the entity types. */
type Detail = { list: DetailList; item: object };

/** A function that lists one entity type's details for an account. */
type DetailSource = (accountId: string) => Promise<Detail[]>;

/**
 * GetAccountAuthorizationDetails: every user and role of the account with its inline policies and tags (and, as
 * they arrive, groups and managed policies: each is one more DetailSource in `sources`). Policy documents are
 * URL-encoded, as IAM returns them. Authorized as iam:GetAccountAuthorizationDetails on `*` by the pipeline.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
 */
export function authorizationDetailsOperations(deps: IamDeps) {
  const { store } = deps;

  async function inlinePolicies(accountId: string, kind: IamPrincipalKind, name: string) {
    const identity = await store.getIamIdentity(accountId, kind, name);
    if (!identity) return [];
    return identity.policyDocuments.map((document, index) => ({ PolicyName: identity.policyNames?.[index], PolicyDocument: encodeURIComponent(document) }));
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
          GroupList: [],
          AttachedManagedPolicies: [],
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
          AttachedManagedPolicies: [],
          Tags: role.tags,
        },
      })),
    );

  /** Coffer has no groups nor managed policies yet: those filters list nothing (until their sources are added here). */
  const none: DetailSource = async () => [];
  const sources: Record<EntityType, DetailSource> = { User: users, Group: none, Role: roles, LocalManagedPolicy: none, AWSManagedPolicy: none };
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
