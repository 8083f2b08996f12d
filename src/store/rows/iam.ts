/** Row -> record mapping of the IAM tables, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { SessionAttributes } from '../../core/index.js';
import type { AccessKeyRecord, IamGroupRecord, IamIdentityRecord, IamRoleRecord, IamTag, IamUserRecord, ManagedPolicyRecord, ManagedPolicyUsage, ManagedPolicyVersionRecord, PolicyEntity } from '../records.js';
import { optionalDate, type Row } from './values.js';

/** Table and id column per owner of inline policies: fixed strings, never caller data, so safe in SQL text. */
export const PRINCIPAL_TABLES = {
  user: { table: 'iam_users', id: 'user_id', policies: 'iam_user_policies' },
  role: { table: 'iam_roles', id: 'role_id', policies: 'iam_role_policies' },
  group: { table: 'iam_groups', id: 'group_id', policies: 'iam_group_policies' },
} as const;

/** IAM names are case-insensitively unique: the key the constraints compare. */
export function nameKey(name: string): string {
  return name.toUpperCase();
}

export function accessKeyFromRow(row: Row): AccessKeyRecord {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    principalArn: row.principal_arn,
    sealedSecret: row.sealed_secret,
    createdAt: new Date(row.created_at),
    expiresAt: optionalDate(row.expires_at),
    userId: row.user_id ?? undefined,
    status: row.status,
    sessionTokenHash: row.session_token_hash ?? undefined,
    session: row.session_attributes ? (JSON.parse(row.session_attributes) as SessionAttributes) : undefined,
  };
}

/** The session_attributes column: a role session's attributes as JSON text, NULL for every other key. */
export function sessionAttributesColumn(session: SessionAttributes | undefined): string | null {
  return session ? JSON.stringify(session) : null;
}

export function userFromRow(row: Row): IamUserRecord {
  return {
    accountId: row.account_id,
    userName: row.user_name,
    userId: row.user_id,
    arn: row.arn,
    path: row.path,
    createdAt: new Date(row.created_at),
    tags: JSON.parse(row.tags) as IamTag[],
    ...boundaryOf(row),
  };
}

export function roleFromRow(row: Row): IamRoleRecord {
  return {
    accountId: row.account_id,
    roleName: row.role_name,
    roleId: row.role_id,
    arn: row.arn,
    path: row.path,
    assumeRolePolicyDocument: row.assume_role_policy,
    description: row.description ?? undefined,
    maxSessionDurationSeconds: row.max_session_duration,
    createdAt: new Date(row.created_at),
    tags: JSON.parse(row.tags) as IamTag[],
    ...boundaryOf(row),
  };
}

/** The permissions boundary member, present only when the user or role has one. */
function boundaryOf(row: Row): { permissionsBoundary?: string } {
  return row.permissions_boundary ? { permissionsBoundary: row.permissions_boundary as string } : {};
}

export function managedPolicyFromRow(row: Row): ManagedPolicyRecord {
  return {
    accountId: row.account_id,
    policyName: row.policy_name,
    policyId: row.policy_id,
    arn: row.arn,
    path: row.path,
    description: row.description ?? undefined,
    defaultVersionId: row.default_version_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    tags: JSON.parse(row.tags) as IamTag[],
  };
}

/** A version row, with its policy's default version id (`default_version_id`) to tell whether it is the default. */
export function policyVersionFromRow(row: Row): ManagedPolicyVersionRecord {
  return { versionId: row.version_id, document: row.document, isDefaultVersion: row.version_id === row.default_version_id, createdAt: new Date(row.created_at) };
}

/** Version ids are `v<number>`; versions sort newest first by that number. */
export function versionId(number: number): string {
  return `v${number}`;
}

/**
 * The identity record from its principal row (owner_id, arn, tags, permissions_boundary, boundary_document) and
 * its policy rows (source 0: an inline document; 1: an attached managed policy's ARN and default text; 2: an
 * inline document of one of a user's groups; 3: a managed policy attached to one of a user's groups).
 */
export function identityFromRows(principal: Row, policies: readonly Row[]): IamIdentityRecord {
  // Inline documents: the principal's own (source 0), then a user's groups' (source 2), in the rows' order.
  // Managed: attached to the principal (source 1), then to a user's groups (source 3); a policy attached twice
  // (to the user and a group, or to two groups) is listed once, as it applies once.
  const inline = policies.filter((row) => Number(row.source) === 0 || Number(row.source) === 2);
  const attached = policies.filter((row) => Number(row.source) === 1 || Number(row.source) === 3);
  const managed = attached.filter((row, index) => attached.findIndex((other) => other.policy_arn === row.policy_arn) === index);
  const tags = Object.fromEntries((JSON.parse(principal.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
  const identity: IamIdentityRecord = {
    id: principal.owner_id as string,
    arn: principal.arn as string,
    policyDocuments: inline.map((row) => row.document as string),
    tags,
    policyNames: inline.map((row) => row.policy_name as string),
    policyOwners: inline.map((row) => (Number(row.source) === 2 ? 'group' : 'principal')),
    managedPolicies: managed.map((row) => (row.document === null || row.document === undefined ? { arn: row.policy_arn as string } : { arn: row.policy_arn as string, document: row.document as string })),
  };
  if (principal.permissions_boundary) {
    identity.permissionsBoundary = principal.boundary_document
      ? { arn: principal.permissions_boundary as string, document: principal.boundary_document as string }
      : { arn: principal.permissions_boundary as string };
  }
  return identity;
}

/** A row of the usage query (policy_arn, attachments, boundaries). */
export function policyUsageFromRow(row: Row): ManagedPolicyUsage {
  return { policyArn: row.policy_arn, attachmentCount: Number(row.attachments), permissionsBoundaryUsageCount: Number(row.boundaries) };
}

export function policyEntityFromRow(row: Row): PolicyEntity {
  return { kind: row.kind, name: row.name, id: row.id, path: row.path, usage: row.usage };
}

export function groupFromRow(row: Row): IamGroupRecord {
  return {
    accountId: row.account_id,
    groupName: row.group_name,
    groupId: row.group_id,
    arn: row.arn,
    path: row.path,
    createdAt: new Date(row.created_at),
  };
}

/**
 * The group after UpdateGroup: the new name and/or path, and the ARN that names them (the stored ARN's prefix,
 * `arn:aws:iam::<account>:group`, followed by the new path and name). The id stays: members and policies follow.
 */
export function renamedGroup(group: IamGroupRecord, change: { newName?: string; newPath?: string }): IamGroupRecord {
  const groupName = change.newName ?? group.groupName;
  const path = change.newPath ?? group.path;
  const prefix = group.arn.slice(0, group.arn.length - (group.path.length + group.groupName.length));
  return { ...group, groupName, path, arn: `${prefix}${path}${groupName}` };
}
