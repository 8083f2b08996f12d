import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type {
  AccessKeyRecord,
  AccessKeyStatus,
  AttachPolicyOutcome,
  CreatePolicyVersionOutcome,
  DeleteManagedPolicyOutcome,
  DeletePolicyVersionOutcome,
  DetachPolicyOutcome,
  ManagedPolicyRecord,
  ManagedPolicyUsage,
  ManagedPolicyVersionRecord,
  PolicyEntity,
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
  UserAccessKeyOutcome,
} from '../records.js';
import {
  accessKeyFromRow,
  groupFromRow,
  identityFromRows,
  managedPolicyFromRow,
  nameKey,
  policyVersionFromRow,
  policyEntityFromRow,
  policyUsageFromRow,
  PRINCIPAL_TABLES,
  renamedGroup,
  roleFromRow,
  sessionAttributesColumn,
  userFromRow,
  versionId,
} from '../rows/iam.js';

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
      `INSERT INTO iam_users (user_id, account_id, user_name, name_key, arn, path, created_at, tags, permissions_boundary)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      user.userId, user.accountId, user.userName, nameKey(user.userName), user.arn, user.path, user.createdAt.getTime(), JSON.stringify(user.tags),
      user.permissionsBoundary ?? null,
    ).changes === 1;
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
      if (this.#hasAttachments('user', user.userId)) return 'has-attached-policies';
      if (this.#stmt('SELECT 1 FROM iam_group_members WHERE user_id = ? LIMIT 1').get(user.userId)) return 'in-groups';
      this.#stmt('DELETE FROM iam_users WHERE user_id = ?').run(user.userId);
      return 'deleted';
    }).immediate();
  }

  createIamRole(role: IamRoleRecord): boolean {
    return this.#stmt(
      `INSERT INTO iam_roles (role_id, account_id, role_name, name_key, arn, path, assume_role_policy, description,
         max_session_duration, created_at, tags, permissions_boundary)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ).run(
      role.roleId, role.accountId, role.roleName, nameKey(role.roleName), role.arn, role.path, role.assumeRolePolicyDocument,
      role.description ?? null, role.maxSessionDurationSeconds, role.createdAt.getTime(), JSON.stringify(role.tags), role.permissionsBoundary ?? null,
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

  updateIamRole(accountId: string, roleName: string, changes: IamRoleChanges): IamRoleRecord | undefined {
    return this.#db.transaction(() => {
      const role = this.getIamRole(accountId, roleName);
      if (!role) return undefined;
      const description = changes.description ?? role.description ?? null;
      const maxSession = changes.maxSessionDurationSeconds ?? role.maxSessionDurationSeconds;
      this.#stmt('UPDATE iam_roles SET description = ?, max_session_duration = ? WHERE role_id = ?').run(description, maxSession, role.roleId);
      return this.getIamRole(accountId, roleName);
    }).immediate();
  }

  renameIamUser(accountId: string, userName: string, next: IamUserRename): IamUserRenameOutcome {
    return this.#db.transaction((): IamUserRenameOutcome => {
      const user = this.getIamUser(accountId, userName);
      if (!user) return 'absent';
      const holder = this.#stmt('SELECT user_id FROM iam_users WHERE account_id = ? AND name_key = ?').pluck().get(accountId, nameKey(next.userName)) as string | undefined;
      if (holder !== undefined && holder !== user.userId) return 'name-taken';
      this.#stmt('UPDATE iam_users SET user_name = ?, name_key = ?, path = ?, arn = ? WHERE user_id = ?').run(next.userName, nameKey(next.userName), next.path, next.arn, user.userId);
      // The user's long-term keys and its GetSessionToken sessions authenticate as the user's ARN.
      this.#stmt('UPDATE access_keys SET principal_arn = ? WHERE account_id = ? AND (user_id = ? OR principal_arn = ?)').run(next.arn, accountId, user.userId, user.arn);
      return 'updated';
    }).immediate();
  }

  deleteIamRole(accountId: string, roleName: string): IamDeleteOutcome {
    return this.#db.transaction((): IamDeleteOutcome => {
      const role = this.getIamRole(accountId, roleName);
      if (!role) return 'absent';
      if (this.#stmt('SELECT 1 FROM iam_role_policies WHERE owner_id = ? LIMIT 1').get(role.roleId)) return 'has-policies';
      if (this.#hasAttachments('role', role.roleId)) return 'has-attached-policies';
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
    return this.#db.transaction(() => {
      const { table, id, policies: inline } = PRINCIPAL_TABLES[kind];
      // The principal with its boundary's default text, then its inline policies, its groups' (users only) and its
      // attached managed policies: two reads per request.
      const principal = this.#stmt(
        `SELECT e.${id} AS owner_id, e.arn, e.tags, e.permissions_boundary, bv.document AS boundary_document
         FROM ${table} e
         LEFT JOIN iam_managed_policies bp ON bp.arn = e.permissions_boundary
         LEFT JOIN iam_managed_policy_versions bv ON bv.policy_id = bp.policy_id AND bv.version_id = bp.default_version_id
         WHERE e.account_id = ? AND e.name_key = ?`,
      ).get(accountId, nameKey(name)) as Row | undefined;
      if (!principal) return undefined;
      const ownerId = principal.owner_id as string;
      const parameters = kind === 'user' ? [ownerId, ownerId, kind, ownerId] : [ownerId, kind, ownerId];
      const policies = this.#stmt(identityPoliciesSql(inline, kind === 'user')).all(...parameters) as Row[];
      return identityFromRows(principal, policies);
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

  createManagedPolicy(policy: ManagedPolicyRecord, document: string): boolean {
    return this.#db.transaction(() => {
      const inserted = this.#stmt(
        `INSERT INTO iam_managed_policies (policy_id, account_id, policy_name, name_key, arn, path, description, default_version_id,
           next_version, created_at, updated_at, tags)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(
        policy.policyId, policy.accountId, policy.policyName, nameKey(policy.policyName), policy.arn, policy.path, policy.description ?? null,
        versionId(1), policy.createdAt.getTime(), policy.updatedAt.getTime(), JSON.stringify(policy.tags),
      ).changes === 1;
      if (inserted) this.#insertVersion(policy.policyId, 1, document, policy.createdAt);
      return inserted;
    }).immediate();
  }

  getManagedPolicy(arn: string): ManagedPolicyRecord | undefined {
    const row = this.#stmt('SELECT * FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
    return row && managedPolicyFromRow(row);
  }

  listManagedPolicies(accountId: string, pathPrefix: string): ManagedPolicyRecord[] {
    const rows = this.#stmt('SELECT * FROM iam_managed_policies WHERE account_id = ? AND substr(path, 1, ?) = ? ORDER BY name_key').all(accountId, pathPrefix.length, pathPrefix) as Row[];
    return rows.map(managedPolicyFromRow);
  }

  deleteManagedPolicy(arn: string): DeleteManagedPolicyOutcome {
    return this.#db.transaction((): DeleteManagedPolicyOutcome => {
      const policy = this.#stmt('SELECT policy_id, account_id FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return 'absent';
      if (this.#stmt('SELECT 1 FROM iam_policy_attachments WHERE account_id = ? AND policy_arn = ? LIMIT 1').get(policy.account_id, arn)) return 'attached';
      const versions = this.#stmt('SELECT count(*) FROM iam_managed_policy_versions WHERE policy_id = ?').pluck().get(policy.policy_id) as number;
      if (versions > 1) return 'has-versions';
      this.#stmt('DELETE FROM iam_managed_policies WHERE policy_id = ?').run(policy.policy_id);
      return 'deleted';
    }).immediate();
  }

  createManagedPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: Date, maxVersions: number): CreatePolicyVersionOutcome {
    return this.#db.transaction((): CreatePolicyVersionOutcome => {
      const policy = this.#stmt('SELECT policy_id, next_version FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return { outcome: 'absent' };
      const versions = this.#stmt('SELECT count(*) FROM iam_managed_policy_versions WHERE policy_id = ?').pluck().get(policy.policy_id) as number;
      if (versions >= maxVersions) return { outcome: 'limit-exceeded' };
      const number = policy.next_version as number;
      this.#insertVersion(policy.policy_id, number, document, createdAt);
      this.#stmt(
        `UPDATE iam_managed_policies SET next_version = ?, default_version_id = CASE WHEN ? THEN ? ELSE default_version_id END,
           updated_at = CASE WHEN ? THEN ? ELSE updated_at END WHERE policy_id = ?`,
      ).run(number + 1, setAsDefault ? 1 : 0, versionId(number), setAsDefault ? 1 : 0, createdAt.getTime(), policy.policy_id);
      return { outcome: 'created', versionId: versionId(number) };
    }).immediate();
  }

  getManagedPolicyVersion(arn: string, version: string): { version?: ManagedPolicyVersionRecord } | undefined {
    return this.#db.transaction(() => {
      const policy = this.#stmt('SELECT policy_id FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return undefined;
      const row = this.#stmt(
        `SELECT v.*, p.default_version_id FROM iam_managed_policy_versions v JOIN iam_managed_policies p ON p.policy_id = v.policy_id
         WHERE v.policy_id = ? AND v.version_id = ?`,
      ).get(policy.policy_id, version) as Row | undefined;
      return { version: row && policyVersionFromRow(row) };
    })();
  }

  listManagedPolicyVersions(arn: string): ManagedPolicyVersionRecord[] | undefined {
    return this.#db.transaction(() => {
      const policy = this.#stmt('SELECT policy_id FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return undefined;
      const rows = this.#stmt(
        `SELECT v.*, p.default_version_id FROM iam_managed_policy_versions v JOIN iam_managed_policies p ON p.policy_id = v.policy_id
         WHERE v.policy_id = ? ORDER BY v.version_number DESC`,
      ).all(policy.policy_id) as Row[];
      return rows.map(policyVersionFromRow);
    })();
  }

  deleteManagedPolicyVersion(arn: string, version: string): DeletePolicyVersionOutcome {
    return this.#db.transaction((): DeletePolicyVersionOutcome => {
      const policy = this.#stmt('SELECT policy_id, default_version_id FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return 'no-policy';
      if (policy.default_version_id === version) return 'is-default';
      const deleted = this.#stmt('DELETE FROM iam_managed_policy_versions WHERE policy_id = ? AND version_id = ?').run(policy.policy_id, version).changes;
      return deleted === 1 ? 'deleted' : 'no-version';
    }).immediate();
  }

  setDefaultManagedPolicyVersion(arn: string, version: string, updatedAt: Date): 'set' | 'no-policy' | 'no-version' {
    return this.#db.transaction(() => {
      const policy = this.#stmt('SELECT policy_id FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!policy) return 'no-policy' as const;
      if (!this.#stmt('SELECT 1 FROM iam_managed_policy_versions WHERE policy_id = ? AND version_id = ?').get(policy.policy_id, version)) return 'no-version' as const;
      this.#stmt('UPDATE iam_managed_policies SET default_version_id = ?, updated_at = ? WHERE policy_id = ?').run(version, updatedAt.getTime(), policy.policy_id);
      return 'set' as const;
    }).immediate();
  }

  tagManagedPolicy(arn: string, tags: IamTag[], maxTags: number): 'tagged' | 'absent' | 'limit-exceeded' {
    return this.#db.transaction(() => {
      const row = this.#stmt('SELECT tags FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!row) return 'absent' as const;
      const merged = new Map((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
      for (const tag of tags) merged.set(tag.Key, tag.Value);
      if (merged.size > maxTags) return 'limit-exceeded' as const;
      const next = [...merged].map(([Key, Value]) => ({ Key, Value }));
      this.#stmt('UPDATE iam_managed_policies SET tags = ? WHERE arn = ?').run(JSON.stringify(next), arn);
      return 'tagged' as const;
    }).immediate();
  }

  untagManagedPolicy(arn: string, tagKeys: string[]): boolean {
    return this.#db.transaction(() => {
      const row = this.#stmt('SELECT tags FROM iam_managed_policies WHERE arn = ?').get(arn) as Row | undefined;
      if (!row) return false;
      const next = (JSON.parse(row.tags) as IamTag[]).filter((tag) => !tagKeys.includes(tag.Key));
      this.#stmt('UPDATE iam_managed_policies SET tags = ? WHERE arn = ?').run(JSON.stringify(next), arn);
      return true;
    }).immediate();
  }

  getManagedPolicyDocument(arn: string): string | undefined {
    return this.#stmt(
      `SELECT v.document FROM iam_managed_policies p JOIN iam_managed_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id
       WHERE p.arn = ?`,
    ).pluck().get(arn) as string | undefined;
  }

  attachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string, maxAttached: number, requireStoredPolicy: boolean): AttachPolicyOutcome {
    return this.#db.transaction((): AttachPolicyOutcome => {
      const ownerId = this.#ownerId(kind, accountId, name);
      if (ownerId === undefined) return 'no-entity';
      if (requireStoredPolicy && !this.#stmt('SELECT 1 FROM iam_managed_policies WHERE arn = ? AND account_id = ?').get(policyArn, accountId)) return 'no-policy';
      if (this.#stmt('SELECT 1 FROM iam_policy_attachments WHERE entity_kind = ? AND entity_id = ? AND policy_arn = ?').get(kind, ownerId, policyArn)) return 'attached';
      const attached = this.#stmt('SELECT count(*) FROM iam_policy_attachments WHERE entity_kind = ? AND entity_id = ?').pluck().get(kind, ownerId) as number;
      if (attached >= maxAttached) return 'limit-exceeded';
      this.#stmt('INSERT INTO iam_policy_attachments (account_id, entity_kind, entity_id, policy_arn) VALUES (?, ?, ?, ?)').run(accountId, kind, ownerId, policyArn);
      return 'attached';
    }).immediate();
  }

  detachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string): DetachPolicyOutcome {
    return this.#db.transaction((): DetachPolicyOutcome => {
      const ownerId = this.#ownerId(kind, accountId, name);
      if (ownerId === undefined) return 'no-entity';
      const deleted = this.#stmt('DELETE FROM iam_policy_attachments WHERE entity_kind = ? AND entity_id = ? AND policy_arn = ?').run(kind, ownerId, policyArn).changes;
      return deleted === 1 ? 'detached' : 'not-attached';
    }).immediate();
  }

  listAttachedManagedPolicies(accountId: string, kind: IamPolicyOwnerKind, name: string): string[] | undefined {
    return this.#db.transaction(() => {
      const ownerId = this.#ownerId(kind, accountId, name);
      if (ownerId === undefined) return undefined;
      return this.#stmt('SELECT policy_arn FROM iam_policy_attachments WHERE entity_kind = ? AND entity_id = ? ORDER BY policy_arn').pluck().all(kind, ownerId) as string[];
    })();
  }

  listPolicyEntities(accountId: string, policyArn: string): PolicyEntity[] {
    const rows = this.#stmt(
      `SELECT 'user' AS kind, u.user_name AS name, u.user_id AS id, u.path, 'PermissionsPolicy' AS usage
       FROM iam_policy_attachments a JOIN iam_users u ON u.user_id = a.entity_id
       WHERE a.entity_kind = 'user' AND a.account_id = ? AND a.policy_arn = ?
       UNION ALL
       SELECT 'role', r.role_name, r.role_id, r.path, 'PermissionsPolicy' FROM iam_policy_attachments a JOIN iam_roles r ON r.role_id = a.entity_id
       WHERE a.entity_kind = 'role' AND a.account_id = ? AND a.policy_arn = ?
       UNION ALL
       SELECT 'user', user_name, user_id, path, 'PermissionsBoundary' FROM iam_users WHERE account_id = ? AND permissions_boundary = ?
       UNION ALL
       SELECT 'role', role_name, role_id, path, 'PermissionsBoundary' FROM iam_roles WHERE account_id = ? AND permissions_boundary = ?
       ORDER BY kind, name, usage`,
    ).all(accountId, policyArn, accountId, policyArn, accountId, policyArn, accountId, policyArn) as Row[];
    return rows.map(policyEntityFromRow);
  }

  listManagedPolicyUsage(accountId: string): ManagedPolicyUsage[] {
    const rows = this.#stmt(
      `SELECT policy_arn, sum(attached) AS attachments, sum(bounded) AS boundaries FROM (
         SELECT policy_arn, 1 AS attached, 0 AS bounded FROM iam_policy_attachments WHERE account_id = ?
         UNION ALL SELECT permissions_boundary, 0, 1 FROM iam_users WHERE account_id = ? AND permissions_boundary IS NOT NULL
         UNION ALL SELECT permissions_boundary, 0, 1 FROM iam_roles WHERE account_id = ? AND permissions_boundary IS NOT NULL
       ) AS used GROUP BY policy_arn ORDER BY policy_arn`,
    ).all(accountId, accountId, accountId) as Row[];
    return rows.map(policyUsageFromRow);
  }

  setPermissionsBoundary(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string | undefined): boolean {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#stmt(`UPDATE ${table} SET permissions_boundary = ? WHERE account_id = ? AND name_key = ?`).run(policyArn ?? null, accountId, nameKey(name)).changes === 1;
  }

  #insertVersion(policyId: string, number: number, document: string, createdAt: Date): void {
    this.#stmt('INSERT INTO iam_managed_policy_versions (policy_id, version_id, version_number, document, created_at) VALUES (?, ?, ?, ?, ?)').run(
      policyId, versionId(number), number, document, createdAt.getTime(),
    );
  }

  #hasAttachments(kind: IamPrincipalKind, ownerId: string): boolean {
    return this.#stmt('SELECT 1 FROM iam_policy_attachments WHERE entity_kind = ? AND entity_id = ? LIMIT 1').get(kind, ownerId) !== undefined;
  }

  #ownerId(kind: IamPolicyOwnerKind, accountId: string, name: string): string | undefined {
    const { table, id } = PRINCIPAL_TABLES[kind];
    return this.#stmt(`SELECT ${id} FROM ${table} WHERE account_id = ? AND name_key = ?`).pluck().get(accountId, nameKey(name)) as string | undefined;
  }
}

/**
 * The identity read's policy rows (identityFromRows): the principal's inline policies (source 0), its attached
 * managed policies with their default text (1), and for a user its groups' inline policies (2), in one statement
 * so that groups and attachments cost no extra statement. Parameters: the owner id, (for a user) the owner id
 * again, the entity kind, the owner id.
 */
function identityPoliciesSql(inlineTable: string, withGroups: boolean): string {
  const groups = withGroups
    ? `UNION ALL
       SELECT 2, NULL, p.policy_name, p.document, m.group_id, p.name_key FROM iam_group_members m
       JOIN iam_group_policies p ON p.owner_id = m.group_id WHERE m.user_id = ?`
    : '';
  return `SELECT 0 AS source, NULL AS policy_arn, policy_name, document, '' AS grp, name_key AS ord FROM ${inlineTable} WHERE owner_id = ?
    ${groups}
    UNION ALL
    SELECT 1, a.policy_arn, NULL, v.document, '', a.policy_arn FROM iam_policy_attachments a
    LEFT JOIN iam_managed_policies p ON p.arn = a.policy_arn
    LEFT JOIN iam_managed_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id
    WHERE a.entity_kind = ? AND a.entity_id = ?
    ORDER BY source, grp, ord`;
}

function insertAccessKeyRow(prepare: Prepare, record: AccessKeyRecord): boolean {
  return prepare(
    `INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, created_at, expires_at, user_id, status, session_token_hash, session_attributes)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (access_key_id) DO NOTHING`,
  ).run(
    record.accessKeyId, record.accountId, record.principalArn, record.sealedSecret, record.createdAt.getTime(),
    record.expiresAt?.getTime() ?? null, record.userId ?? null, record.status ?? 'Active', record.sessionTokenHash ?? null,
    sessionAttributesColumn(record.session),
  ).changes === 1;
}
