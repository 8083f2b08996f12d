import type {
  AccessKeyRecord,
  AccessKeyStatus,
  IamDeleteOutcome,
  IamIdentityRecord,
  IamPrincipalKind,
  IamRoleChanges,
  IamRoleRecord,
  IamTag,
  IamUserRecord,
  IamUserRename,
  IamUserRenameOutcome,
  InlinePolicyRecord,
  UserAccessKeyOutcome,
} from '../records/iam.js';

/**
 * Accounts, access keys (root, user and session keys), IAM users and roles with their tags and inline
 * policies: what iam and auth own. Other domains reach IAM data through iam's ports, not through this repository.
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
  /** Deletes a user that has no access keys and no inline policies (IAM's DeleteConflict otherwise). */
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
  /** Deletes a role that has no inline policies. */
  deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome>;
  /** Merges tags into a user's or role's tags unless it would then have more than `maxTags`; undefined when absent. */
  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'>;
  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean>;
  /** Adds or replaces an inline policy; false when the user or role does not exist. */
  putInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policy: InlinePolicyRecord): Promise<boolean>;
  /** undefined when the principal is absent; the policy member is undefined when only the policy is. */
  getInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policyName: string): Promise<{ policy?: InlinePolicyRecord } | undefined>;
  /** Policy names in order; undefined when the principal does not exist. */
  listInlinePolicyNames(accountId: string, kind: IamPrincipalKind, name: string): Promise<string[] | undefined>;
  deleteInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policyName: string): Promise<'deleted' | 'no-principal' | 'no-policy'>;
  /** A user's or role's ARN, inline policy texts and tags: the identity side of authorization. */
  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined>;
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
}
