import type { SessionAttributes } from '../../core/index.js';
/**
 * What IAM and auth keep: access keys, users, roles, inline policies.
 * Domain records, not rows (see ../records.ts).
 */

export type AccessKeyRecord = {
  accessKeyId: string;
  accountId: string;
  principalArn: string;
  /** The secret access key sealed under the root key: SigV4 verification needs it back. */
  sealedSecret: Buffer;
  createdAt: Date;
  /** Set for the short-lived keys Coffer hands to rotation functions and STS sessions. */
  expiresAt?: Date;
  /** The IAM user owning the key (its user id); undefined for root keys and temporary keys. */
  userId?: string;
  /** Inactive keys do not authenticate (UpdateAccessKey); absent means Active. */
  status?: AccessKeyStatus;
  /** SHA-256 (hex) of an STS session token: requests signed with the key must carry the token. */
  sessionTokenHash?: string;
  /** An STS role session's policies, tags and source identity (undefined for every other key). */
  session?: SessionAttributes;
};

export const ACCESS_KEY_STATUSES = ['Active', 'Inactive'] as const;
export type AccessKeyStatus = (typeof ACCESS_KEY_STATUSES)[number];

/** IAM users and roles: https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html, API_Role.html */
export type IamPrincipalKind = 'user' | 'role';

export type IamUserRecord = {
  accountId: string;
  userName: string;
  /** AIDA… */
  userId: string;
  arn: string;
  path: string;
  createdAt: Date;
  tags: IamTag[];
};

export type IamRoleRecord = {
  accountId: string;
  roleName: string;
  /** AROA… */
  roleId: string;
  arn: string;
  path: string;
  /** The trust policy as JSON text. */
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDurationSeconds: number;
  createdAt: Date;
  tags: IamTag[];
};

export type IamTag = { Key: string; Value: string };

/** A user's or role's inline policy. */
export type InlinePolicyRecord = { policyName: string; document: string };

/** What the identity side of authorization reads about a user or role. */
/** A user or role as authorization reads it; `id` is its unique id (AIDA…/AROA…), the aws:userid policy key. */
export type IamIdentityRecord = { id: string; arn: string; policyDocuments: string[]; tags: Record<string, string> };

/** Why DeleteUser / DeleteRole did nothing (IAM's DeleteConflict names what is still attached). */
export type IamDeleteOutcome = 'deleted' | 'absent' | 'has-access-keys' | 'has-policies' | 'in-groups';

/**
 * An IAM group: a set of users whose inline policies apply to each member. Not a principal: nothing signs as
 * a group. https://docs.aws.amazon.com/IAM/latest/APIReference/API_Group.html
 */
export type IamGroupRecord = {
  accountId: string;
  groupName: string;
  /** AGPA… */
  groupId: string;
  arn: string;
  path: string;
  createdAt: Date;
};

/** Whose inline policies: a user's or role's (principals), or a group's. */
export type IamPolicyOwnerKind = IamPrincipalKind | 'group';

export type IamGroupCreateOutcome = 'created' | 'exists' | 'limit-exceeded';
/** UpdateGroup: 'name-taken' when the new name belongs to another group of the account. */
export type IamGroupUpdateOutcome = { outcome: 'updated'; group: IamGroupRecord } | { outcome: 'absent' | 'name-taken' };
export type IamGroupDeleteOutcome = 'deleted' | 'absent' | 'has-members' | 'has-policies';
/** AddUserToGroup: adding a member again changes nothing and is 'added'. */
export type IamGroupAddOutcome = 'added' | 'no-group' | 'no-user' | 'limit-exceeded';
export type IamGroupRemoveOutcome = 'removed' | 'no-group' | 'no-user' | 'not-member';

export type UserAccessKeyOutcome = 'created' | 'limit-exceeded' | 'no-such-user';
