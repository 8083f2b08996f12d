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
  /** The ARN of the managed policy set as its permissions boundary; absent when it has none. */
  permissionsBoundary?: string;
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
  /** The ARN of the managed policy set as its permissions boundary; absent when it has none. */
  permissionsBoundary?: string;
};

export type IamTag = { Key: string; Value: string };

/** A user's or role's inline policy. */
export type InlinePolicyRecord = { policyName: string; document: string };

/**
 * A user or role as authorization reads it; `id` is its unique id (AIDA…/AROA…), the aws:userid policy key.
 * `policyDocuments` are its inline policies; `managedPolicies` the managed policies attached to it, each with the
 * text of its default version (absent for an AWS managed policy, which iam holds in code, or a policy gone);
 * `permissionsBoundary` the boundary's ARN and default version text (text absent as for managed policies).
 */
export type IamIdentityRecord = {
  id: string;
  arn: string;
  policyDocuments: string[];
  tags: Record<string, string>;
  /** The inline policies' names, aligned with policyDocuments (policy simulation names the policy that matched). */
  policyNames?: string[];
  /** Who each inline policy belongs to, aligned with policyDocuments: the principal itself, or one of a user's groups. */
  policyOwners?: InlinePolicyOwner[];
  managedPolicies: ManagedPolicyDocument[];
  permissionsBoundary?: ManagedPolicyDocument;
};

/** Whose inline policy an identity's policy text is: the user's or role's own, or a group's the user is in. */
export type InlinePolicyOwner = 'principal' | 'group';

/** A role's settings UpdateRole changes; a member left undefined keeps its value. */
export type IamRoleChanges = { description?: string; maxSessionDurationSeconds?: number };

/** A user's new name, path and ARN (UpdateUser); the ARN follows the name and path, so the caller forms it. */
export type IamUserRename = { userName: string; path: string; arn: string };

export type IamUserRenameOutcome = 'updated' | 'absent' | 'name-taken';

/** A managed policy's ARN and the text of its default version, when the store holds it. */
export type ManagedPolicyDocument = { arn: string; document?: string };

/** Why DeleteUser / DeleteRole did nothing (IAM's DeleteConflict names what is still attached). */
export type IamDeleteOutcome = 'deleted' | 'absent' | 'has-access-keys' | 'has-policies' | 'has-attached-policies' | 'in-groups';

/**
 * A customer managed policy: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html. Its versions
 * are ManagedPolicyVersionRecord; `nextVersion` is the number the next version gets (v1, v2, ...; IAM never
 * reuses a deleted version's number).
 */
export type ManagedPolicyRecord = {
  accountId: string;
  policyName: string;
  /** ANPA… */
  policyId: string;
  arn: string;
  path: string;
  description?: string;
  defaultVersionId: string;
  createdAt: Date;
  updatedAt: Date;
  tags: IamTag[];
};

/** https://docs.aws.amazon.com/IAM/latest/APIReference/API_PolicyVersion.html */
export type ManagedPolicyVersionRecord = { versionId: string; document: string; isDefaultVersion: boolean; createdAt: Date };

/** Who a managed policy can be attached to (one table for the three kinds). */
export type PolicyAttachmentKind = 'user' | 'role' | 'group';

/**
 * A user, role (later group) that uses a managed policy (ListEntitiesForPolicy): attached to it
 * (`PermissionsPolicy`) or as its permissions boundary (`PermissionsBoundary`); one entry per use.
 */
export type PolicyEntity = { kind: PolicyAttachmentKind; name: string; id: string; path: string; usage: 'PermissionsPolicy' | 'PermissionsBoundary' };

/** How many entities of an account use a managed policy: attached, and as a permissions boundary. */
export type ManagedPolicyUsage = { policyArn: string; attachmentCount: number; permissionsBoundaryUsageCount: number };

export type CreatePolicyVersionOutcome = { outcome: 'created'; versionId: string } | { outcome: 'absent' } | { outcome: 'limit-exceeded' };
export type DeleteManagedPolicyOutcome = 'deleted' | 'absent' | 'attached' | 'has-versions';
export type DeletePolicyVersionOutcome = 'deleted' | 'no-policy' | 'no-version' | 'is-default';
export type AttachPolicyOutcome = 'attached' | 'no-entity' | 'no-policy' | 'limit-exceeded';
export type DetachPolicyOutcome = 'detached' | 'no-entity' | 'not-attached';

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
export type IamGroupDeleteOutcome = 'deleted' | 'absent' | 'has-members' | 'has-policies' | 'has-attached-policies';
/** AddUserToGroup: adding a member again changes nothing and is 'added'. */
export type IamGroupAddOutcome = 'added' | 'no-group' | 'no-user' | 'limit-exceeded';
export type IamGroupRemoveOutcome = 'removed' | 'no-group' | 'no-user' | 'not-member';

export type UserAccessKeyOutcome = 'created' | 'limit-exceeded' | 'no-such-user';
