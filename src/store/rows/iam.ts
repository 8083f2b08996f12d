/** Row -> record mapping of the IAM tables, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { AccessKeyRecord, IamGroupRecord, IamRoleRecord, IamTag, IamUserRecord } from '../records.js';
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
  };
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
  };
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
