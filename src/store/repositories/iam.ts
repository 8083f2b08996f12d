import type {
  AccessKeyRecord,
  AccessKeyStatus,
  AttachPolicyOutcome,
  CreatePolicyVersionOutcome,
  DeleteManagedPolicyOutcome,
  DeletePolicyVersionOutcome,
  DetachPolicyOutcome,
  IamDeleteOutcome,
  IamGroupAddOutcome,
  IamGroupCreateOutcome,
  IamGroupDeleteOutcome,
  IamGroupRecord,
  IamGroupRemoveOutcome,
  IamGroupUpdateOutcome,
  IamIdentityRecord,
  IamPolicyOwnerKind,
  IamPrincipalKind,
  IamRoleChanges,
  IamRoleRecord,
  IamTag,
  IamUserRecord,
  IamUserRename,
  IamUserRenameOutcome,
  InlinePolicyRecord,
  ManagedPolicyRecord,
  ManagedPolicyUsage,
  ManagedPolicyVersionRecord,
  PolicyEntity,
  UserAccessKeyOutcome,
} from '../records/iam.js';

/**
 * Accounts, access keys (root, user and session keys), IAM users and roles with their tags and inline
 * policies, IAM groups with their members and inline policies: what iam and auth own. Other domains reach IAM data through iam's ports, not through this repository.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface IamRepository {
  insertAccessKey(record: AccessKeyRecord): Promise<boolean>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Removes access keys whose expiry has passed. */
  deleteExpiredAccessKeys(now: Date): Promise<number>;
  /** Records a new account; false when the id is taken. */
  createAccount(accountId: string, createdAt: Date): Promise<boolean>;
  /** IAM users and roles. Names are unique per account (case-insensitively, as in IAM); false when taken. */
  createIamUser(user: IamUserRecord): Promise<boolean>;
  getIamUser(accountId: string, userName: string): Promise<IamUserRecord | undefined>;
  listIamUsers(accountId: string, pathPrefix: string): Promise<IamUserRecord[]>;
  /** Deletes a user that has no access keys, no inline and no attached managed policies and is in no group (IAM's DeleteConflict otherwise). */
  deleteIamUser(accountId: string, userName: string): Promise<IamDeleteOutcome>;
  createIamRole(role: IamRoleRecord): Promise<boolean>;
  getIamRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined>;
  listIamRoles(accountId: string, pathPrefix: string): Promise<IamRoleRecord[]>;
  /** Replaces a role's trust policy; false when the role does not exist. */
  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean>;
  /** UpdateRole: changes the description and/or maximum session duration; the role as updated, undefined when absent. */
  updateIamRole(accountId: string, roleName: string, changes: IamRoleChanges): Promise<IamRoleRecord | undefined>;
  /**
   * UpdateUser: renames and/or moves a user (name, path, ARN at once). Its id, keys, policies and tags stay; the
   * principal ARN of its access keys follows, so they authenticate as the renamed user. 'name-taken' when another
   * user of the account has the new name (case-insensitively).
   */
  renameIamUser(accountId: string, userName: string, next: IamUserRename): Promise<IamUserRenameOutcome>;
  /** Deletes a role that has no inline and no attached managed policies. */
  deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome>;
  /** Merges tags into a user's or role's tags unless it would then have more than `maxTags`; undefined when absent. */
  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'>;
  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean>;
  /** Adds or replaces an inline policy; false when the user, role or group does not exist. */
  putInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policy: InlinePolicyRecord): Promise<boolean>;
  /** undefined when the principal is absent; the policy member is undefined when only the policy is. */
  getInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<{ policy?: InlinePolicyRecord } | undefined>;
  /** Policy names in order; undefined when the principal does not exist. */
  listInlinePolicyNames(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined>;
  deleteInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<'deleted' | 'no-principal' | 'no-policy'>;
  /**
   * A user's or role's ARN, inline policy texts, tags, attached managed policies and permissions boundary (each
   * with its default version's text): the identity side of authorization, in one read per request. A user's
   * policy texts include its groups' inline policies (after its own).
   */
  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined>;
  /** Creates a group unless its name is taken (case-insensitively) or the account has `maxGroups` already. */
  createIamGroup(group: IamGroupRecord, maxGroups: number): Promise<IamGroupCreateOutcome>;
  getIamGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined>;
  /** The account's groups whose path starts with `pathPrefix`, by name. */
  listIamGroups(accountId: string, pathPrefix: string): Promise<IamGroupRecord[]>;
  /** Renames and/or moves a group (new ARN, same id, members and policies). */
  updateIamGroup(accountId: string, groupName: string, change: { newName?: string; newPath?: string }): Promise<IamGroupUpdateOutcome>;
  /** Deletes a group that has no members and no inline policies. */
  deleteIamGroup(accountId: string, groupName: string): Promise<IamGroupDeleteOutcome>;
  /** Makes the user a member unless it is in `maxGroupsPerUser` other groups already. */
  addUserToGroup(accountId: string, groupName: string, userName: string, maxGroupsPerUser: number): Promise<IamGroupAddOutcome>;
  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<IamGroupRemoveOutcome>;
  /** The group and its members by name; undefined when the group does not exist. */
  getIamGroupWithMembers(accountId: string, groupName: string): Promise<{ group: IamGroupRecord; members: IamUserRecord[] } | undefined>;
  /** The user's groups by name; undefined when the user does not exist. */
  listIamGroupsForUser(accountId: string, userName: string): Promise<IamGroupRecord[] | undefined>;
  /** Inserts a key of an existing user unless it has `maxKeys` already. */
  insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): Promise<UserAccessKeyOutcome>;
  /** A user's keys, oldest first. */
  listUserAccessKeys(userId: string): Promise<AccessKeyRecord[]>;
  /** Changes the status of a key of that user; false when the user has no such key. */
  updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  deleteUserAccessKey(userId: string, accessKeyId: string): Promise<boolean>;
  /** Inserts a long-term key of the account root unless the root has `maxKeys` already (false then). */
  insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): Promise<boolean>;
  /** Deletes a root key of the account (a key with no user and no expiry). */
  deleteRootAccessKey(accountId: string, accessKeyId: string): Promise<boolean>;
  listRootAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;

  /**
   * Customer managed policies, their versions, tags, attachments and use as permissions boundaries. AWS managed
   * policies are iam's code (iam/aws-managed-policies.ts), never rows; they are attached by ARN like the others.
   * Policy names are unique per account (case-insensitively); an ARN names one policy.
   * Creates a policy with its first version `v1` as the default; false when the account has one of that name.
   */
  createManagedPolicy(policy: ManagedPolicyRecord, document: string): Promise<boolean>;
  getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined>;
  /** The account's customer managed policies whose path starts with `pathPrefix`, by name. */
  listManagedPolicies(accountId: string, pathPrefix: string): Promise<ManagedPolicyRecord[]>;
  /** Deletes a policy attached to nothing and without versions besides its default (IAM's DeleteConflict otherwise). */
  deleteManagedPolicy(arn: string): Promise<DeleteManagedPolicyOutcome>;
  /** Adds version v<n> (n one more than any before) unless the policy has `maxVersions` already; optionally the default. */
  createManagedPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: Date, maxVersions: number): Promise<CreatePolicyVersionOutcome>;
  /** undefined when the policy is absent; the version member is undefined when only the version is. */
  getManagedPolicyVersion(arn: string, versionId: string): Promise<{ version?: ManagedPolicyVersionRecord } | undefined>;
  /** Newest first; undefined when the policy is absent. */
  listManagedPolicyVersions(arn: string): Promise<ManagedPolicyVersionRecord[] | undefined>;
  deleteManagedPolicyVersion(arn: string, versionId: string): Promise<DeletePolicyVersionOutcome>;
  setDefaultManagedPolicyVersion(arn: string, versionId: string, updatedAt: Date): Promise<'set' | 'no-policy' | 'no-version'>;
  tagManagedPolicy(arn: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'>;
  untagManagedPolicy(arn: string, tagKeys: string[]): Promise<boolean>;
  /** The text of a customer managed policy's default version; undefined when there is no such policy. */
  getManagedPolicyDocument(arn: string): Promise<string | undefined>;
  /**
   * Attaches a managed policy to a user or role (again: no change) unless it has `maxAttached` already.
   * `requireStoredPolicy`: the ARN must name a customer managed policy row (false for AWS managed ARNs).
   */
  attachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string, maxAttached: number, requireStoredPolicy: boolean): Promise<AttachPolicyOutcome>;
  detachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string): Promise<DetachPolicyOutcome>;
  /** The ARNs attached to a user, role or group, in ARN order; undefined when it does not exist. */
  listAttachedManagedPolicies(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined>;
  /** The account's users and roles (and later groups) a policy is attached to or bounds, by kind, name, then use. */
  listPolicyEntities(accountId: string, policyArn: string): Promise<PolicyEntity[]>;
  /** Per managed policy used in the account (attached, or a permissions boundary): how often. Unused policies are absent. */
  listManagedPolicyUsage(accountId: string): Promise<ManagedPolicyUsage[]>;
  /** Sets (an ARN) or removes (undefined) a user's or role's permissions boundary; false when it does not exist. */
  setPermissionsBoundary(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string | undefined): Promise<boolean>;
}
