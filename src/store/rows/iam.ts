/** Row -> record mapping of the IAM tables, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { SessionAttributes } from '../../core/index.js';
import type { AccessKeyRecord, IamRoleRecord, IamTag, IamUserRecord } from '../records.js';
import { optionalDate, type Row } from './values.js';

/** Table and id column per principal kind: fixed strings, never caller data, so safe in SQL text. */
export const PRINCIPAL_TABLES = {
  user: { table: 'iam_users', id: 'user_id', policies: 'iam_user_policies' },
  role: { table: 'iam_roles', id: 'role_id', policies: 'iam_role_policies' },
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
