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
export type IamIdentityRecord = {
  id: string;
  arn: string;
  policyDocuments: string[];
  tags: Record<string, string>;
  /** The inline policies' names, aligned with policyDocuments (policy simulation names the policy that matched). */
  policyNames?: string[];
};

/** A role's settings UpdateRole changes; a member left undefined keeps its value. */
export type IamRoleChanges = { description?: string; maxSessionDurationSeconds?: number };

/** A user's new name, path and ARN (UpdateUser); the ARN follows the name and path, so the caller forms it. */
export type IamUserRename = { userName: string; path: string; arn: string };

export type IamUserRenameOutcome = 'updated' | 'absent' | 'name-taken';

/** Why DeleteUser / DeleteRole did nothing (IAM's DeleteConflict names what is still attached). */
export type IamDeleteOutcome = 'deleted' | 'absent' | 'has-access-keys' | 'has-policies';

export type UserAccessKeyOutcome = 'created' | 'limit-exceeded' | 'no-such-user';
