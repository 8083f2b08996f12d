import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type {
  AccessKeyRecord,
  AccessKeyStatus,
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
  IamRoleRecord,
  IamTag,
  IamUserRecord,
  InlinePolicyRecord,
  UserAccessKeyOutcome,
} from '../records.js';
import { accessKeyFromRow, groupFromRow, nameKey, PRINCIPAL_TABLES, renamedGroup, roleFromRow, userFromRow } from '../rows/iam.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/** Accounts, access keys (root, user and session keys), IAM users, roles and groups and their inline policies, in SQLite. */
export class SqliteIamTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  insertAccessKey(record: AccessKeyRecord): boolean {
    return insertAccessKeyRow(this.#stmt, record);
  }

  getAccessKey(accessKeyId: string): AccessKeyRecord | undefined {
    const row = this.#stmt('SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId) as Row | undefined;
    return row && accessKeyFromRow(row);
  }

  deleteExpiredAccessKeys(now: Date): number {
    return this.#stmt('DELETE FROM access_keys WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now.getTime()).changes;
  }

  createAccount(accountId: string, createdAt: Date): boolean {
    return this.#stmt('INSERT INTO accounts (account_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(accountId, createdAt.getTime()).changes === 1;
  }

  createIamUser(user: IamUserRecord): boolean {
    return this.#stmt(
      `INSERT INTO iam_users (user_id, account_id, user_name, name_key, arn, path, created_at, tags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(user.userId, user.accountId, user.userName, nameKey(user.userName), user.arn, user.path, user.createdAt.getTime(), JSON.stringify(user.tags)).changes === 1;
  }

  getIamUser(accountId: string, userName: string): IamUserRecord | undefined {
    const row = this.#stmt('SELECT * FROM iam_users WHERE account_id = ? AND name_key = ?').get(accountId, nameKey(userName)) as Row | undefined;
    return row && userFromRow(row);
  }

  listIamUsers(accountId: string, pathPrefix: string): IamUserRecord[] {
    const rows = this.#stmt('SELECT * FROM iam_users WHERE account_id = ? AND substr(path, 1, ?) = ? ORDER BY name_key').all(accountId, pathPrefix.length, pathPrefix) as Row[];
    return rows.map(userFromRow);
  }

  deleteIamUser(accountId: string, userName: string): IamDeleteOutcome {
    return this.#db.transaction((): IamDeleteOutcome => {
      const user = this.getIamUser(accountId, userName);
      if (!user) return 'absent';
      if (this.#stmt('SELECT 1 FROM access_keys WHERE user_id = ? LIMIT 1').get(user.userId)) return 'has-access-keys';
      if (this.#stmt('SELECT 1 FROM iam_user_policies WHERE owner_id = ? LIMIT 1').get(user.userId)) return 'has-policies';
      if (this.#stmt('SELECT 1 FROM iam_group_members WHERE user_id = ? LIMIT 1').get(user.userId)) return 'in-groups';
      this.#stmt('DELETE FROM iam_users WHERE user_id = ?').run(user.userId);
      return 'deleted';
    }).immediate();
  }

  createIamRole(role: IamRoleRecord): boolean {
    return this.#stmt(
      `INSERT INTO iam_roles (role_id, account_id, role_name, name_key, arn, path, assume_role_policy, description,
         max_session_duration, created_at, tags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      role.roleId, role.accountId, role.roleName, nameKey(role.roleName), role.arn, role.path, role.assumeRolePolicyDocument,
      role.description ?? null, role.maxSessionDurationSeconds, role.createdAt.getTime(), JSON.stringify(role.tags),
    ).changes === 1;
  }

  getIamRole(accountId: string, roleName: string): IamRoleRecord | undefined {
    const row = this.#stmt('SELECT * FROM iam_roles WHERE account_id = ? AND name_key = ?').get(accountId, nameKey(roleName)) as Row | undefined;
    return row && roleFromRow(row);
  }

  listIamRoles(accountId: string, pathPrefix: string): IamRoleRecord[] {
    const rows = this.#stmt('SELECT * FROM iam_roles WHERE account_id = ? AND substr(path, 1, ?) = ? ORDER BY name_key').all(accountId, pathPrefix.length, pathPrefix) as Row[];
    return rows.map(roleFromRow);
  }

  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): boolean {
    return this.#stmt('UPDATE iam_roles SET assume_role_policy = ? WHERE account_id = ? AND name_key = ?').run(document, accountId, nameKey(roleName)).changes === 1;
  }

  deleteIamRole(accountId: string, roleName: string): IamDeleteOutcome {
    return this.#db.transaction((): IamDeleteOutcome => {
      const role = this.getIamRole(accountId, roleName);
      if (!role) return 'absent';
      if (this.#stmt('SELECT 1 FROM iam_role_policies WHERE owner_id = ? LIMIT 1').get(role.roleId)) return 'has-policies';
      this.#stmt('DELETE FROM iam_roles WHERE role_id = ?').run(role.roleId);
      return 'deleted';
    }).immediate();
  }

  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): 'tagged' | 'absent' | 'limit-exceeded' {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#db.transaction(() => {
      const row = this.#stmt(`SELECT tags FROM ${table} WHERE account_id = ? AND name_key = ?`).get(accountId, nameKey(name)) as Row | undefined;
      if (!row) return 'absent' as const;
      const merged = new Map((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
      for (const tag of tags) merged.set(tag.Key, tag.Value);
      if (merged.size > maxTags) return 'limit-exceeded' as const;
      const next = [...merged].map(([Key, Value]) => ({ Key, Value }));
      this.#stmt(`UPDATE ${table} SET tags = ? WHERE account_id = ? AND name_key = ?`).run(JSON.stringify(next), accountId, nameKey(name));
      return 'tagged' as const;
    }).immediate();
  }

  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): boolean {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#db.transaction(() => {
      const row = this.#stmt(`SELECT tags FROM ${table} WHERE account_id = ? AND name_key = ?`).get(accountId, nameKey(name)) as Row | undefined;
      if (!row) return false;
      const next = (JSON.parse(row.tags) as IamTag[]).filter((tag) => !tagKeys.includes(tag.Key));
      this.#stmt(`UPDATE ${table} SET tags = ? WHERE account_id = ? AND name_key = ?`).run(JSON.stringify(next), accountId, nameKey(name));
      return true;
    }).immediate();
  }

  putInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policy: InlinePolicyRecord): boolean {
    const { table, id, policies } = PRINCIPAL_TABLES[kind];
    // One statement: the principal's id is read and the policy written atomically, or nothing when it is absent.
    const result = this.#stmt(
      `INSERT INTO ${policies} (owner_id, policy_name, name_key, document)
       SELECT ${id}, ?, ?, ? FROM ${table} WHERE account_id = ? AND name_key = ?
       ON CONFLICT (owner_id, name_key) DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
    ).run(policy.policyName, nameKey(policy.policyName), policy.document, accountId, nameKey(name));
    return result.changes === 1;
  }

  getInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): { policy?: InlinePolicyRecord } | undefined {
    const ownerId = this.#ownerId(kind, accountId, name);
    if (ownerId === undefined) return undefined;
    const { policies } = PRINCIPAL_TABLES[kind];
    const row = this.#stmt(`SELECT policy_name, document FROM ${policies} WHERE owner_id = ? AND name_key = ?`).get(ownerId, nameKey(policyName)) as Row | undefined;
    return { policy: row && { policyName: row.policy_name, document: row.document } };
  }

  listInlinePolicyNames(accountId: string, kind: IamPolicyOwnerKind, name: string): string[] | undefined {
    const ownerId = this.#ownerId(kind, accountId, name);
    if (ownerId === undefined) return undefined;
    const { policies } = PRINCIPAL_TABLES[kind];
    return this.#stmt(`SELECT policy_name FROM ${policies} WHERE owner_id = ? ORDER BY name_key`).pluck().all(ownerId) as string[];
  }

  deleteInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): 'deleted' | 'no-principal' | 'no-policy' {
    const { policies } = PRINCIPAL_TABLES[kind];
    return this.#db.transaction(() => {
      const ownerId = this.#ownerId(kind, accountId, name);
      if (ownerId === undefined) return 'no-principal' as const;
      const changes = this.#stmt(`DELETE FROM ${policies} WHERE owner_id = ? AND name_key = ?`).run(ownerId, nameKey(policyName)).changes;
      return changes === 1 ? ('deleted' as const) : ('no-policy' as const);
    })();
  }

  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): IamIdentityRecord | undefined {
    const { table, id, policies } = PRINCIPAL_TABLES[kind];
    return this.#db.transaction(() => {
      const row = this.#stmt(`SELECT ${id} AS owner_id, arn, tags FROM ${table} WHERE account_id = ? AND name_key = ?`).get(accountId, nameKey(name)) as Row | undefined;
      if (!row) return undefined;
      const documents = (kind === 'user'
        ? this.#stmt(USER_AND_GROUP_POLICIES).pluck().all(row.owner_id, row.owner_id)
        : this.#stmt(`SELECT document FROM ${policies} WHERE owner_id = ? ORDER BY name_key`).pluck().all(row.owner_id)) as string[];
      const tags = Object.fromEntries((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
      return { id: row.owner_id as string, arn: row.arn as string, policyDocuments: documents, tags };
    })();
  }

  createIamGroup(group: IamGroupRecord, maxGroups: number): IamGroupCreateOutcome {
    return this.#db.transaction((): IamGroupCreateOutcome => {
      if (this.getIamGroup(group.accountId, group.groupName)) return 'exists';
      const count = this.#stmt('SELECT count(*) FROM iam_groups WHERE account_id = ?').pluck().get(group.accountId) as number;
      if (count >= maxGroups) return 'limit-exceeded';
      const inserted = this.#stmt(
        `INSERT INTO iam_groups (group_id, account_id, group_name, name_key, arn, path, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(group.groupId, group.accountId, group.groupName, nameKey(group.groupName), group.arn, group.path, group.createdAt.getTime()).changes;
      return inserted === 1 ? 'created' : 'exists';
    }).immediate();
  }

  getIamGroup(accountId: string, groupName: string): IamGroupRecord | undefined {
    const row = this.#stmt('SELECT * FROM iam_groups WHERE account_id = ? AND name_key = ?').get(accountId, nameKey(groupName)) as Row | undefined;
    return row && groupFromRow(row);
  }

  listIamGroups(accountId: string, pathPrefix: string): IamGroupRecord[] {
    const rows = this.#stmt('SELECT * FROM iam_groups WHERE account_id = ? AND substr(path, 1, ?) = ? ORDER BY name_key').all(accountId, pathPrefix.length, pathPrefix) as Row[];
    return rows.map(groupFromRow);
  }

  updateIamGroup(accountId: string, groupName: string, change: { newName?: string; newPath?: string }): IamGroupUpdateOutcome {
    return this.#db.transaction((): IamGroupUpdateOutcome => {
      const group = this.getIamGroup(accountId, groupName);
      if (!group) return { outcome: 'absent' };
      const next = renamedGroup(group, change);
      const taken = this.#stmt('SELECT 1 FROM iam_groups WHERE account_id = ? AND name_key = ? AND group_id <> ?').get(accountId, nameKey(next.groupName), group.groupId);
      if (taken) return { outcome: 'name-taken' };
      this.#stmt('UPDATE iam_groups SET group_name = ?, name_key = ?, path = ?, arn = ? WHERE group_id = ?').run(
        next.groupName, nameKey(next.groupName), next.path, next.arn, group.groupId,
      );
      return { outcome: 'updated', group: next };
    }).immediate();
  }

  deleteIamGroup(accountId: string, groupName: string): IamGroupDeleteOutcome {
    return this.#db.transaction((): IamGroupDeleteOutcome => {
      const group = this.getIamGroup(accountId, groupName);
      if (!group) return 'absent';
      if (this.#stmt('SELECT 1 FROM iam_group_members WHERE group_id = ? LIMIT 1').get(group.groupId)) return 'has-members';
      if (this.#stmt('SELECT 1 FROM iam_group_policies WHERE owner_id = ? LIMIT 1').get(group.groupId)) return 'has-policies';
      this.#stmt('DELETE FROM iam_groups WHERE group_id = ?').run(group.groupId);
      return 'deleted';
    }).immediate();
  }

  addUserToGroup(accountId: string, groupName: string, userName: string, maxGroupsPerUser: number): IamGroupAddOutcome {
    return this.#db.transaction((): IamGroupAddOutcome => {
      const groupId = this.#ownerId('group', accountId, groupName);
      if (groupId === undefined) return 'no-group';
      const userId = this.#ownerId('user', accountId, userName);
      if (userId === undefined) return 'no-user';
      if (this.#stmt('SELECT 1 FROM iam_group_members WHERE group_id = ? AND user_id = ?').get(groupId, userId)) return 'added';
      const count = this.#stmt('SELECT count(*) FROM iam_group_members WHERE user_id = ?').pluck().get(userId) as number;
      if (count >= maxGroupsPerUser) return 'limit-exceeded';
      this.#stmt('INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(groupId, userId);
      return 'added';
    }).immediate();
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): IamGroupRemoveOutcome {
    return this.#db.transaction((): IamGroupRemoveOutcome => {
      const groupId = this.#ownerId('group', accountId, groupName);
      if (groupId === undefined) return 'no-group';
      const userId = this.#ownerId('user', accountId, userName);
      if (userId === undefined) return 'no-user';
      const removed = this.#stmt('DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId).changes;
      return removed === 1 ? 'removed' : 'not-member';
    }).immediate();
  }

  getIamGroupWithMembers(accountId: string, groupName: string): { group: IamGroupRecord; members: IamUserRecord[] } | undefined {
    return this.#db.transaction(() => {
      const group = this.getIamGroup(accountId, groupName);
      if (!group) return undefined;
      const rows = this.#stmt(
        'SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.user_id = m.user_id WHERE m.group_id = ? ORDER BY u.name_key',
      ).all(group.groupId) as Row[];
      return { group, members: rows.map(userFromRow) };
    })();
  }

  listIamGroupsForUser(accountId: string, userName: string): IamGroupRecord[] | undefined {
    return this.#db.transaction(() => {
      const userId = this.#ownerId('user', accountId, userName);
      if (userId === undefined) return undefined;
      const rows = this.#stmt(
        'SELECT g.* FROM iam_group_members m JOIN iam_groups g ON g.group_id = m.group_id WHERE m.user_id = ? ORDER BY g.name_key',
      ).all(userId) as Row[];
      return rows.map(groupFromRow);
    })();
  }

  insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): UserAccessKeyOutcome {
    return this.#db.transaction((): UserAccessKeyOutcome => {
      if (!this.#stmt('SELECT 1 FROM iam_users WHERE user_id = ?').get(record.userId)) return 'no-such-user';
      const count = this.#stmt('SELECT count(*) FROM access_keys WHERE user_id = ?').pluck().get(record.userId) as number;
      if (count >= maxKeys) return 'limit-exceeded';
      insertAccessKeyRow(this.#stmt, record);
      return 'created';
    }).immediate();
  }

  listUserAccessKeys(userId: string): AccessKeyRecord[] {
    const rows = this.#stmt('SELECT * FROM access_keys WHERE user_id = ? ORDER BY created_at, access_key_id').all(userId) as Row[];
    return rows.map(accessKeyFromRow);
  }

  updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): boolean {
    return this.#stmt('UPDATE access_keys SET status = ? WHERE user_id = ? AND access_key_id = ?').run(status, userId, accessKeyId).changes === 1;
  }

  deleteUserAccessKey(userId: string, accessKeyId: string): boolean {
    return this.#stmt('DELETE FROM access_keys WHERE user_id = ? AND access_key_id = ?').run(userId, accessKeyId).changes === 1;
  }

  insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): boolean {
    return this.#db.transaction(() => {
      if (this.listRootAccessKeys(record.accountId).length >= maxKeys) return false;
      return insertAccessKeyRow(this.#stmt, record);
    }).immediate();
  }

  deleteRootAccessKey(accountId: string, accessKeyId: string): boolean {
    return this.#stmt(
      'DELETE FROM access_keys WHERE account_id = ? AND access_key_id = ? AND user_id IS NULL AND expires_at IS NULL AND principal_arn = ?',
    ).run(accountId, accessKeyId, `arn:aws:iam::${accountId}:root`).changes === 1;
  }

  listRootAccessKeys(accountId: string): AccessKeyRecord[] {
    const rows = this.#stmt(
      'SELECT * FROM access_keys WHERE account_id = ? AND user_id IS NULL AND expires_at IS NULL AND principal_arn = ? ORDER BY created_at, access_key_id',
    ).all(accountId, `arn:aws:iam::${accountId}:root`) as Row[];
    return rows.map(accessKeyFromRow);
  }

  #ownerId(kind: IamPolicyOwnerKind, accountId: string, name: string): string | undefined {
    const { table, id } = PRINCIPAL_TABLES[kind];
    return this.#stmt(`SELECT ${id} FROM ${table} WHERE account_id = ? AND name_key = ?`).pluck().get(accountId, nameKey(name)) as string | undefined;
  }
}

/**
 * A user's inline policy texts and then its groups' (getIamIdentity), in one statement so that groups cost the
 * identity read no extra statement. Parameters: the user id, twice.
 */
const USER_AND_GROUP_POLICIES = `
  SELECT document FROM (
    SELECT document, 0 AS source, '' AS group_id, name_key FROM iam_user_policies WHERE owner_id = ?
    UNION ALL
    SELECT p.document, 1, m.group_id, p.name_key FROM iam_group_members m JOIN iam_group_policies p ON p.owner_id = m.group_id
    WHERE m.user_id = ?
  ) ORDER BY source, group_id, name_key`;

function insertAccessKeyRow(prepare: Prepare, record: AccessKeyRecord): boolean {
  return prepare(
    `INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, created_at, expires_at, user_id, status, session_token_hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (access_key_id) DO NOTHING`,
  ).run(
    record.accessKeyId, record.accountId, record.principalArn, record.sealedSecret, record.createdAt.getTime(),
    record.expiresAt?.getTime() ?? null, record.userId ?? null, record.status ?? 'Active', record.sessionTokenHash ?? null,
  ).changes === 1;
}
