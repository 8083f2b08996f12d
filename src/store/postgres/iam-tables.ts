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
  policyEntityFromRow,
  policyUsageFromRow,
  policyVersionFromRow,
  PRINCIPAL_TABLES,
  renamedGroup,
  roleFromRow,
  sessionAttributesColumn,
  userFromRow,
  versionId,
} from '../rows/iam.js';
import type { IamRepository } from '../repositories/iam.js';
import type { RunInTransaction } from './postgres-tables.js';
import type { Sql } from './transaction.js';

/**
 * Accounts, access keys (root, user and session keys), IAM users, roles and groups and their inline policies, in
 * PostgreSQL: the SQL of SqliteIamTables, each method one SERIALIZABLE transaction. Read-decide-write methods
 * (key limits, tag merges, deletes that check what is attached) rely on that isolation: a concurrent write
 * makes one of them fail with 40001 and run again. Text orders use COLLATE "C" (byte order, as in SQLite).
 */
export class PostgresIamTables implements IamRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  insertAccessKey(record: AccessKeyRecord): Promise<boolean> {
    return this.#transaction((sql) => insertAccessKeyRow(sql, record));
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM access_keys WHERE access_key_id = $1', [accessKeyId]);
      return row && accessKeyFromRow(row);
    });
  }

  deleteExpiredAccessKeys(now: Date): Promise<number> {
    return this.#transaction((sql) => sql.run('DELETE FROM access_keys WHERE expires_at IS NOT NULL AND expires_at <= $1', [now.getTime()]));
  }

  createAccount(accountId: string, createdAt: Date): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run('INSERT INTO accounts (account_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [accountId, createdAt.getTime()])) === 1,
    );
  }

  createIamUser(user: IamUserRecord): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        `INSERT INTO iam_users (user_id, account_id, user_name, name_key, arn, path, created_at, tags, permissions_boundary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
        [
          user.userId, user.accountId, user.userName, nameKey(user.userName), user.arn, user.path, user.createdAt.getTime(), JSON.stringify(user.tags),
          user.permissionsBoundary ?? null,
        ],
      )) === 1,
    );
  }

  getIamUser(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM iam_users WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(userName)]);
      return row && userFromRow(row);
    });
  }

  listIamUsers(accountId: string, pathPrefix: string): Promise<IamUserRecord[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        'SELECT * FROM iam_users WHERE account_id = $1 AND substr(path, 1, $2) = $3 ORDER BY name_key COLLATE "C"',
        [accountId, pathPrefix.length, pathPrefix],
      );
      return rows.map(userFromRow);
    });
  }

  deleteIamUser(accountId: string, userName: string): Promise<IamDeleteOutcome> {
    return this.#transaction(async (sql): Promise<IamDeleteOutcome> => {
      const user = await sql.one('SELECT user_id FROM iam_users WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(userName)]);
      if (!user) return 'absent';
      if (await sql.one('SELECT 1 FROM access_keys WHERE user_id = $1 LIMIT 1', [user.user_id])) return 'has-access-keys';
      if (await sql.one('SELECT 1 FROM iam_user_policies WHERE owner_id = $1 LIMIT 1', [user.user_id])) return 'has-policies';
      if (await hasAttachments(sql, 'user', user.user_id)) return 'has-attached-policies';
      if (await sql.one('SELECT 1 FROM iam_group_members WHERE user_id = $1 LIMIT 1', [user.user_id])) return 'in-groups';
      await sql.run('DELETE FROM iam_users WHERE user_id = $1', [user.user_id]);
      return 'deleted';
    });
  }

  createIamRole(role: IamRoleRecord): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        `INSERT INTO iam_roles (role_id, account_id, role_name, name_key, arn, path, assume_role_policy, description,
           max_session_duration, created_at, tags, permissions_boundary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
        [
          role.roleId, role.accountId, role.roleName, nameKey(role.roleName), role.arn, role.path, role.assumeRolePolicyDocument,
          role.description ?? null, role.maxSessionDurationSeconds, role.createdAt.getTime(), JSON.stringify(role.tags), role.permissionsBoundary ?? null,
        ],
      )) === 1,
    );
  }

  getIamRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM iam_roles WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(roleName)]);
      return row && roleFromRow(row);
    });
  }

  listIamRoles(accountId: string, pathPrefix: string): Promise<IamRoleRecord[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        'SELECT * FROM iam_roles WHERE account_id = $1 AND substr(path, 1, $2) = $3 ORDER BY name_key COLLATE "C"',
        [accountId, pathPrefix.length, pathPrefix],
      );
      return rows.map(roleFromRow);
    });
  }

  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run('UPDATE iam_roles SET assume_role_policy = $1 WHERE account_id = $2 AND name_key = $3', [document, accountId, nameKey(roleName)])) === 1,
    );
  }

  updateIamRole(accountId: string, roleName: string, changes: IamRoleChanges): Promise<IamRoleRecord | undefined> {
    return this.#transaction(async (sql) => {
      const role = await sql.one('SELECT * FROM iam_roles WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(roleName)]);
      if (!role) return undefined;
      const description = changes.description ?? role.description ?? null;
      const maxSession = changes.maxSessionDurationSeconds ?? role.max_session_duration;
      await sql.run('UPDATE iam_roles SET description = $1, max_session_duration = $2 WHERE role_id = $3', [description, maxSession, role.role_id]);
      return roleFromRow({ ...role, description, max_session_duration: maxSession });
    });
  }

  renameIamUser(accountId: string, userName: string, next: IamUserRename): Promise<IamUserRenameOutcome> {
    return this.#transaction(async (sql): Promise<IamUserRenameOutcome> => {
      const user = await sql.one('SELECT user_id, arn FROM iam_users WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(userName)]);
      if (!user) return 'absent';
      const holder = await sql.one('SELECT user_id FROM iam_users WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(next.userName)]);
      if (holder && holder.user_id !== user.user_id) return 'name-taken';
      await sql.run('UPDATE iam_users SET user_name = $1, name_key = $2, path = $3, arn = $4 WHERE user_id = $5', [
        next.userName, nameKey(next.userName), next.path, next.arn, user.user_id,
      ]);
      // The user's long-term keys and its GetSessionToken sessions authenticate as the user's ARN.
      await sql.run('UPDATE access_keys SET principal_arn = $1 WHERE account_id = $2 AND (user_id = $3 OR principal_arn = $4)', [next.arn, accountId, user.user_id, user.arn]);
      return 'updated';
    });
  }

  deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome> {
    return this.#transaction(async (sql): Promise<IamDeleteOutcome> => {
      const role = await sql.one('SELECT role_id FROM iam_roles WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(roleName)]);
      if (!role) return 'absent';
      if (await sql.one('SELECT 1 FROM iam_role_policies WHERE owner_id = $1 LIMIT 1', [role.role_id])) return 'has-policies';
      if (await hasAttachments(sql, 'role', role.role_id)) return 'has-attached-policies';
      await sql.run('DELETE FROM iam_roles WHERE role_id = $1', [role.role_id]);
      return 'deleted';
    });
  }

  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'> {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      const row = await sql.one(`SELECT tags FROM ${table} WHERE account_id = $1 AND name_key = $2`, [accountId, nameKey(name)]);
      if (!row) return 'absent' as const;
      const merged = new Map((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
      for (const tag of tags) merged.set(tag.Key, tag.Value);
      if (merged.size > maxTags) return 'limit-exceeded' as const;
      const next = [...merged].map(([Key, Value]) => ({ Key, Value }));
      await sql.run(`UPDATE ${table} SET tags = $1 WHERE account_id = $2 AND name_key = $3`, [JSON.stringify(next), accountId, nameKey(name)]);
      return 'tagged' as const;
    });
  }

  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean> {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      const row = await sql.one(`SELECT tags FROM ${table} WHERE account_id = $1 AND name_key = $2`, [accountId, nameKey(name)]);
      if (!row) return false;
      const next = (JSON.parse(row.tags) as IamTag[]).filter((tag) => !tagKeys.includes(tag.Key));
      await sql.run(`UPDATE ${table} SET tags = $1 WHERE account_id = $2 AND name_key = $3`, [JSON.stringify(next), accountId, nameKey(name)]);
      return true;
    });
  }

  putInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policy: InlinePolicyRecord): Promise<boolean> {
    const { table, id, policies } = PRINCIPAL_TABLES[kind];
    // One statement: the principal's id is read and the policy written together, or nothing when it is absent.
    return this.#transaction(async (sql) =>
      (await sql.run(
        `INSERT INTO ${policies} (owner_id, policy_name, name_key, document)
         SELECT ${id}, $1, $2, $3 FROM ${table} WHERE account_id = $4 AND name_key = $5
         ON CONFLICT (owner_id, name_key) DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
        [policy.policyName, nameKey(policy.policyName), policy.document, accountId, nameKey(name)],
      )) === 1,
    );
  }

  getInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<{ policy?: InlinePolicyRecord } | undefined> {
    const { policies } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return undefined;
      const row = await sql.one(`SELECT policy_name, document FROM ${policies} WHERE owner_id = $1 AND name_key = $2`, [ownerId, nameKey(policyName)]);
      return { policy: row && { policyName: row.policy_name, document: row.document } };
    });
  }

  listInlinePolicyNames(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined> {
    const { policies } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return undefined;
      const rows = await sql.rows(`SELECT policy_name FROM ${policies} WHERE owner_id = $1 ORDER BY name_key COLLATE "C"`, [ownerId]);
      return rows.map((row) => row.policy_name as string);
    });
  }

  deleteInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<'deleted' | 'no-principal' | 'no-policy'> {
    const { policies } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return 'no-principal' as const;
      const deleted = await sql.run(`DELETE FROM ${policies} WHERE owner_id = $1 AND name_key = $2`, [ownerId, nameKey(policyName)]);
      return deleted === 1 ? ('deleted' as const) : ('no-policy' as const);
    });
  }

  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined> {
    const { table, id, policies: inline } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) => {
      // The principal with its boundary's default text, then its inline policies, its groups' (users only) and its
      // attached managed policies: two reads per request.
      const principal = await sql.one(
        `SELECT e.${id} AS owner_id, e.arn, e.tags, e.permissions_boundary, bv.document AS boundary_document
         FROM ${table} e
         LEFT JOIN iam_managed_policies bp ON bp.arn = e.permissions_boundary
         LEFT JOIN iam_managed_policy_versions bv ON bv.policy_id = bp.policy_id AND bv.version_id = bp.default_version_id
         WHERE e.account_id = $1 AND e.name_key = $2`,
        [accountId, nameKey(name)],
      );
      if (!principal) return undefined;
      const policies = await sql.rows(identityPoliciesSql(inline, kind === 'user'), [principal.owner_id, kind]);
      return identityFromRows(principal, policies);
    });
  }

  createIamGroup(group: IamGroupRecord, maxGroups: number): Promise<IamGroupCreateOutcome> {
    return this.#transaction(async (sql): Promise<IamGroupCreateOutcome> => {
      if (await groupRow(sql, group.accountId, group.groupName)) return 'exists';
      const counted = await sql.one('SELECT count(*)::int AS groups FROM iam_groups WHERE account_id = $1', [group.accountId]);
      if (counted!.groups >= maxGroups) return 'limit-exceeded';
      const inserted = await sql.run(
        `INSERT INTO iam_groups (group_id, account_id, group_name, name_key, arn, path, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [group.groupId, group.accountId, group.groupName, nameKey(group.groupName), group.arn, group.path, group.createdAt.getTime()],
      );
      return inserted === 1 ? 'created' : 'exists';
    });
  }

  getIamGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await groupRow(sql, accountId, groupName);
      return row && groupFromRow(row);
    });
  }

  listIamGroups(accountId: string, pathPrefix: string): Promise<IamGroupRecord[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        'SELECT * FROM iam_groups WHERE account_id = $1 AND substr(path, 1, $2) = $3 ORDER BY name_key COLLATE "C"',
        [accountId, pathPrefix.length, pathPrefix],
      );
      return rows.map(groupFromRow);
    });
  }

  updateIamGroup(accountId: string, groupName: string, change: { newName?: string; newPath?: string }): Promise<IamGroupUpdateOutcome> {
    return this.#transaction(async (sql): Promise<IamGroupUpdateOutcome> => {
      const row = await groupRow(sql, accountId, groupName);
      if (!row) return { outcome: 'absent' };
      const group = groupFromRow(row);
      const next = renamedGroup(group, change);
      const taken = await sql.one('SELECT 1 FROM iam_groups WHERE account_id = $1 AND name_key = $2 AND group_id <> $3', [accountId, nameKey(next.groupName), group.groupId]);
      if (taken) return { outcome: 'name-taken' };
      await sql.run('UPDATE iam_groups SET group_name = $1, name_key = $2, path = $3, arn = $4 WHERE group_id = $5', [
        next.groupName, nameKey(next.groupName), next.path, next.arn, group.groupId,
      ]);
      return { outcome: 'updated', group: next };
    });
  }

  deleteIamGroup(accountId: string, groupName: string): Promise<IamGroupDeleteOutcome> {
    return this.#transaction(async (sql): Promise<IamGroupDeleteOutcome> => {
      const groupId = await ownerIdOf(sql, 'group', accountId, groupName);
      if (groupId === undefined) return 'absent';
      if (await sql.one('SELECT 1 FROM iam_group_members WHERE group_id = $1 LIMIT 1', [groupId])) return 'has-members';
      if (await sql.one('SELECT 1 FROM iam_group_policies WHERE owner_id = $1 LIMIT 1', [groupId])) return 'has-policies';
      await sql.run('DELETE FROM iam_groups WHERE group_id = $1', [groupId]);
      return 'deleted';
    });
  }

  addUserToGroup(accountId: string, groupName: string, userName: string, maxGroupsPerUser: number): Promise<IamGroupAddOutcome> {
    return this.#transaction(async (sql): Promise<IamGroupAddOutcome> => {
      const groupId = await ownerIdOf(sql, 'group', accountId, groupName);
      if (groupId === undefined) return 'no-group';
      const userId = await ownerIdOf(sql, 'user', accountId, userName);
      if (userId === undefined) return 'no-user';
      if (await sql.one('SELECT 1 FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) return 'added';
      const counted = await sql.one('SELECT count(*)::int AS groups FROM iam_group_members WHERE user_id = $1', [userId]);
      if (counted!.groups >= maxGroupsPerUser) return 'limit-exceeded';
      await sql.run('INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [groupId, userId]);
      return 'added';
    });
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<IamGroupRemoveOutcome> {
    return this.#transaction(async (sql): Promise<IamGroupRemoveOutcome> => {
      const groupId = await ownerIdOf(sql, 'group', accountId, groupName);
      if (groupId === undefined) return 'no-group';
      const userId = await ownerIdOf(sql, 'user', accountId, userName);
      if (userId === undefined) return 'no-user';
      const removed = await sql.run('DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId]);
      return removed === 1 ? 'removed' : 'not-member';
    });
  }

  getIamGroupWithMembers(accountId: string, groupName: string): Promise<{ group: IamGroupRecord; members: IamUserRecord[] } | undefined> {
    return this.#transaction(async (sql) => {
      const row = await groupRow(sql, accountId, groupName);
      if (!row) return undefined;
      const members = await sql.rows(
        'SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.user_id = m.user_id WHERE m.group_id = $1 ORDER BY u.name_key COLLATE "C"',
        [row.group_id],
      );
      return { group: groupFromRow(row), members: members.map(userFromRow) };
    });
  }

  listIamGroupsForUser(accountId: string, userName: string): Promise<IamGroupRecord[] | undefined> {
    return this.#transaction(async (sql) => {
      const userId = await ownerIdOf(sql, 'user', accountId, userName);
      if (userId === undefined) return undefined;
      const rows = await sql.rows(
        'SELECT g.* FROM iam_group_members m JOIN iam_groups g ON g.group_id = m.group_id WHERE m.user_id = $1 ORDER BY g.name_key COLLATE "C"',
        [userId],
      );
      return rows.map(groupFromRow);
    });
  }

  insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): Promise<UserAccessKeyOutcome> {
    return this.#transaction(async (sql): Promise<UserAccessKeyOutcome> => {
      if (!(await sql.one('SELECT 1 FROM iam_users WHERE user_id = $1', [record.userId]))) return 'no-such-user';
      const counted = await sql.one('SELECT count(*) AS keys FROM access_keys WHERE user_id = $1', [record.userId]);
      if (counted!.keys >= maxKeys) return 'limit-exceeded';
      await insertAccessKeyRow(sql, record);
      return 'created';
    });
  }

  listUserAccessKeys(userId: string): Promise<AccessKeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM access_keys WHERE user_id = $1 ORDER BY created_at, access_key_id COLLATE "C"', [userId])).map(accessKeyFromRow),
    );
  }

  updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run('UPDATE access_keys SET status = $1 WHERE user_id = $2 AND access_key_id = $3', [status, userId, accessKeyId])) === 1,
    );
  }

  deleteUserAccessKey(userId: string, accessKeyId: string): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('DELETE FROM access_keys WHERE user_id = $1 AND access_key_id = $2', [userId, accessKeyId])) === 1);
  }

  insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): Promise<boolean> {
    return this.#transaction(async (sql) => {
      if ((await rootAccessKeys(sql, record.accountId)).length >= maxKeys) return false;
      return insertAccessKeyRow(sql, record);
    });
  }

  deleteRootAccessKey(accountId: string, accessKeyId: string): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        'DELETE FROM access_keys WHERE account_id = $1 AND access_key_id = $2 AND user_id IS NULL AND expires_at IS NULL AND principal_arn = $3',
        [accountId, accessKeyId, rootArn(accountId)],
      )) === 1,
    );
  }

  listRootAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return this.#transaction((sql) => rootAccessKeys(sql, accountId));
  }

  createManagedPolicy(policy: ManagedPolicyRecord, document: string): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const inserted = await sql.run(
        `INSERT INTO iam_managed_policies (policy_id, account_id, policy_name, name_key, arn, path, description, default_version_id,
           next_version, created_at, updated_at, tags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 2, $9, $10, $11) ON CONFLICT DO NOTHING`,
        [
          policy.policyId, policy.accountId, policy.policyName, nameKey(policy.policyName), policy.arn, policy.path, policy.description ?? null,
          versionId(1), policy.createdAt.getTime(), policy.updatedAt.getTime(), JSON.stringify(policy.tags),
        ],
      );
      if (inserted === 1) await insertVersion(sql, policy.policyId, 1, document, policy.createdAt);
      return inserted === 1;
    });
  }

  getManagedPolicy(arn: string): Promise<ManagedPolicyRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT * FROM iam_managed_policies WHERE arn = $1', [arn]);
      return row && managedPolicyFromRow(row);
    });
  }

  listManagedPolicies(accountId: string, pathPrefix: string): Promise<ManagedPolicyRecord[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        'SELECT * FROM iam_managed_policies WHERE account_id = $1 AND substr(path, 1, $2) = $3 ORDER BY name_key COLLATE "C"',
        [accountId, pathPrefix.length, pathPrefix],
      );
      return rows.map(managedPolicyFromRow);
    });
  }

  deleteManagedPolicy(arn: string): Promise<DeleteManagedPolicyOutcome> {
    return this.#transaction(async (sql): Promise<DeleteManagedPolicyOutcome> => {
      const policy = await sql.one('SELECT policy_id, account_id FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return 'absent';
      if (await sql.one('SELECT 1 FROM iam_policy_attachments WHERE account_id = $1 AND policy_arn = $2 LIMIT 1', [policy.account_id, arn])) return 'attached';
      const counted = await sql.one('SELECT count(*) AS versions FROM iam_managed_policy_versions WHERE policy_id = $1', [policy.policy_id]);
      if (counted!.versions > 1) return 'has-versions';
      await sql.run('DELETE FROM iam_managed_policies WHERE policy_id = $1', [policy.policy_id]);
      return 'deleted';
    });
  }

  createManagedPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: Date, maxVersions: number): Promise<CreatePolicyVersionOutcome> {
    return this.#transaction(async (sql): Promise<CreatePolicyVersionOutcome> => {
      const policy = await sql.one('SELECT policy_id, next_version FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return { outcome: 'absent' };
      const counted = await sql.one('SELECT count(*) AS versions FROM iam_managed_policy_versions WHERE policy_id = $1', [policy.policy_id]);
      if (counted!.versions >= maxVersions) return { outcome: 'limit-exceeded' };
      const number = Number(policy.next_version);
      await insertVersion(sql, policy.policy_id, number, document, createdAt);
      await sql.run(
        `UPDATE iam_managed_policies SET next_version = $1, default_version_id = CASE WHEN $2 THEN $3 ELSE default_version_id END,
           updated_at = CASE WHEN $2 THEN $4 ELSE updated_at END WHERE policy_id = $5`,
        [number + 1, setAsDefault, versionId(number), createdAt.getTime(), policy.policy_id],
      );
      return { outcome: 'created', versionId: versionId(number) };
    });
  }

  getManagedPolicyVersion(arn: string, version: string): Promise<{ version?: ManagedPolicyVersionRecord } | undefined> {
    return this.#transaction(async (sql) => {
      const policy = await sql.one('SELECT policy_id FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return undefined;
      const row = await sql.one(`${VERSIONS_WITH_DEFAULT} WHERE v.policy_id = $1 AND v.version_id = $2`, [policy.policy_id, version]);
      return { version: row && policyVersionFromRow(row) };
    });
  }

  listManagedPolicyVersions(arn: string): Promise<ManagedPolicyVersionRecord[] | undefined> {
    return this.#transaction(async (sql) => {
      const policy = await sql.one('SELECT policy_id FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return undefined;
      const rows = await sql.rows(`${VERSIONS_WITH_DEFAULT} WHERE v.policy_id = $1 ORDER BY v.version_number DESC`, [policy.policy_id]);
      return rows.map(policyVersionFromRow);
    });
  }

  deleteManagedPolicyVersion(arn: string, version: string): Promise<DeletePolicyVersionOutcome> {
    return this.#transaction(async (sql): Promise<DeletePolicyVersionOutcome> => {
      const policy = await sql.one('SELECT policy_id, default_version_id FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return 'no-policy';
      if (policy.default_version_id === version) return 'is-default';
      const deleted = await sql.run('DELETE FROM iam_managed_policy_versions WHERE policy_id = $1 AND version_id = $2', [policy.policy_id, version]);
      return deleted === 1 ? 'deleted' : 'no-version';
    });
  }

  setDefaultManagedPolicyVersion(arn: string, version: string, updatedAt: Date): Promise<'set' | 'no-policy' | 'no-version'> {
    return this.#transaction(async (sql) => {
      const policy = await sql.one('SELECT policy_id FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!policy) return 'no-policy' as const;
      if (!(await sql.one('SELECT 1 FROM iam_managed_policy_versions WHERE policy_id = $1 AND version_id = $2', [policy.policy_id, version]))) return 'no-version' as const;
      await sql.run('UPDATE iam_managed_policies SET default_version_id = $1, updated_at = $2 WHERE policy_id = $3', [version, updatedAt.getTime(), policy.policy_id]);
      return 'set' as const;
    });
  }

  tagManagedPolicy(arn: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT tags FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!row) return 'absent' as const;
      const merged = new Map((JSON.parse(row.tags) as IamTag[]).map((tag) => [tag.Key, tag.Value]));
      for (const tag of tags) merged.set(tag.Key, tag.Value);
      if (merged.size > maxTags) return 'limit-exceeded' as const;
      const next = [...merged].map(([Key, Value]) => ({ Key, Value }));
      await sql.run('UPDATE iam_managed_policies SET tags = $1 WHERE arn = $2', [JSON.stringify(next), arn]);
      return 'tagged' as const;
    });
  }

  untagManagedPolicy(arn: string, tagKeys: string[]): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('SELECT tags FROM iam_managed_policies WHERE arn = $1', [arn]);
      if (!row) return false;
      const next = (JSON.parse(row.tags) as IamTag[]).filter((tag) => !tagKeys.includes(tag.Key));
      await sql.run('UPDATE iam_managed_policies SET tags = $1 WHERE arn = $2', [JSON.stringify(next), arn]);
      return true;
    });
  }

  getManagedPolicyDocument(arn: string): Promise<string | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `SELECT v.document FROM iam_managed_policies p
         JOIN iam_managed_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id WHERE p.arn = $1`,
        [arn],
      );
      return row?.document as string | undefined;
    });
  }

  attachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string, maxAttached: number, requireStoredPolicy: boolean): Promise<AttachPolicyOutcome> {
    return this.#transaction(async (sql): Promise<AttachPolicyOutcome> => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return 'no-entity';
      if (requireStoredPolicy && !(await sql.one('SELECT 1 FROM iam_managed_policies WHERE arn = $1 AND account_id = $2', [policyArn, accountId]))) return 'no-policy';
      if (await sql.one('SELECT 1 FROM iam_policy_attachments WHERE entity_kind = $1 AND entity_id = $2 AND policy_arn = $3', [kind, ownerId, policyArn])) return 'attached';
      const counted = await sql.one('SELECT count(*) AS attached FROM iam_policy_attachments WHERE entity_kind = $1 AND entity_id = $2', [kind, ownerId]);
      if (counted!.attached >= maxAttached) return 'limit-exceeded';
      await sql.run('INSERT INTO iam_policy_attachments (account_id, entity_kind, entity_id, policy_arn) VALUES ($1, $2, $3, $4)', [accountId, kind, ownerId, policyArn]);
      return 'attached';
    });
  }

  detachManagedPolicy(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string): Promise<DetachPolicyOutcome> {
    return this.#transaction(async (sql): Promise<DetachPolicyOutcome> => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return 'no-entity';
      const deleted = await sql.run('DELETE FROM iam_policy_attachments WHERE entity_kind = $1 AND entity_id = $2 AND policy_arn = $3', [kind, ownerId, policyArn]);
      return deleted === 1 ? 'detached' : 'not-attached';
    });
  }

  listAttachedManagedPolicies(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined> {
    return this.#transaction(async (sql) => {
      const ownerId = await ownerIdOf(sql, kind, accountId, name);
      if (ownerId === undefined) return undefined;
      const rows = await sql.rows('SELECT policy_arn FROM iam_policy_attachments WHERE entity_kind = $1 AND entity_id = $2 ORDER BY policy_arn COLLATE "C"', [kind, ownerId]);
      return rows.map((row) => row.policy_arn as string);
    });
  }

  listPolicyEntities(accountId: string, policyArn: string): Promise<PolicyEntity[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        `SELECT * FROM (
           SELECT 'user' AS kind, u.user_name AS name, u.user_id AS id, u.path, 'PermissionsPolicy' AS usage
           FROM iam_policy_attachments a JOIN iam_users u ON u.user_id = a.entity_id
           WHERE a.entity_kind = 'user' AND a.account_id = $1 AND a.policy_arn = $2
           UNION ALL
           SELECT 'role', r.role_name, r.role_id, r.path, 'PermissionsPolicy' FROM iam_policy_attachments a JOIN iam_roles r ON r.role_id = a.entity_id
           WHERE a.entity_kind = 'role' AND a.account_id = $1 AND a.policy_arn = $2
           UNION ALL
           SELECT 'user', user_name, user_id, path, 'PermissionsBoundary' FROM iam_users WHERE account_id = $1 AND permissions_boundary = $2
           UNION ALL
           SELECT 'role', role_name, role_id, path, 'PermissionsBoundary' FROM iam_roles WHERE account_id = $1 AND permissions_boundary = $2
         ) AS entities ORDER BY kind, name COLLATE "C", usage COLLATE "C"`,
        [accountId, policyArn],
      );
      return rows.map(policyEntityFromRow);
    });
  }

  listManagedPolicyUsage(accountId: string): Promise<ManagedPolicyUsage[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        `SELECT policy_arn, sum(attached) AS attachments, sum(bounded) AS boundaries FROM (
           SELECT policy_arn, 1 AS attached, 0 AS bounded FROM iam_policy_attachments WHERE account_id = $1
           UNION ALL SELECT permissions_boundary, 0, 1 FROM iam_users WHERE account_id = $1 AND permissions_boundary IS NOT NULL
           UNION ALL SELECT permissions_boundary, 0, 1 FROM iam_roles WHERE account_id = $1 AND permissions_boundary IS NOT NULL
         ) AS used GROUP BY policy_arn ORDER BY policy_arn COLLATE "C"`,
        [accountId],
      );
      return rows.map(policyUsageFromRow);
    });
  }

  setPermissionsBoundary(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string | undefined): Promise<boolean> {
    const { table } = PRINCIPAL_TABLES[kind];
    return this.#transaction(async (sql) =>
      (await sql.run(`UPDATE ${table} SET permissions_boundary = $1 WHERE account_id = $2 AND name_key = $3`, [policyArn ?? null, accountId, nameKey(name)])) === 1,
    );
  }
}

async function hasAttachments(sql: Sql, kind: IamPrincipalKind, ownerId: string): Promise<boolean> {
  return (await sql.one('SELECT 1 FROM iam_policy_attachments WHERE entity_kind = $1 AND entity_id = $2 LIMIT 1', [kind, ownerId])) !== undefined;
}

async function insertVersion(sql: Sql, policyId: string, number: number, document: string, createdAt: Date): Promise<void> {
  await sql.run('INSERT INTO iam_managed_policy_versions (policy_id, version_id, version_number, document, created_at) VALUES ($1, $2, $3, $4, $5)', [
    policyId, versionId(number), number, document, createdAt.getTime(),
  ]);
}

const VERSIONS_WITH_DEFAULT = `SELECT v.*, p.default_version_id FROM iam_managed_policy_versions v JOIN iam_managed_policies p ON p.policy_id = v.policy_id`;

function rootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

async function rootAccessKeys(sql: Sql, accountId: string): Promise<AccessKeyRecord[]> {
  const rows = await sql.rows(
    `SELECT * FROM access_keys WHERE account_id = $1 AND user_id IS NULL AND expires_at IS NULL AND principal_arn = $2
     ORDER BY created_at, access_key_id COLLATE "C"`,
    [accountId, rootArn(accountId)],
  );
  return rows.map(accessKeyFromRow);
}

/**
 * The identity read's policy rows (identityFromRows): the principal's inline policies (source 0), its attached
 * managed policies with their default text (1), and for a user its groups' inline policies (2), in one statement.
 * Parameters: $1 the owner id, $2 the entity kind.
 */
function identityPoliciesSql(inlineTable: string, withGroups: boolean): string {
  const groups = withGroups
    ? `UNION ALL
       SELECT 2, NULL::text, p.policy_name, p.document, m.group_id, p.name_key FROM iam_group_members m
       JOIN iam_group_policies p ON p.owner_id = m.group_id WHERE m.user_id = $1`
    : '';
  return `SELECT source, policy_arn, policy_name, document FROM (
      SELECT 0 AS source, NULL::text AS policy_arn, policy_name, document, ''::text AS grp, name_key AS ord FROM ${inlineTable} WHERE owner_id = $1
      ${groups}
      UNION ALL
      SELECT 1, a.policy_arn, NULL, v.document, '', a.policy_arn FROM iam_policy_attachments a
      LEFT JOIN iam_managed_policies p ON p.arn = a.policy_arn
      LEFT JOIN iam_managed_policy_versions v ON v.policy_id = p.policy_id AND v.version_id = p.default_version_id
      WHERE a.entity_kind = $2 AND a.entity_id = $1
    ) AS identity_policies ORDER BY source, grp COLLATE "C", ord COLLATE "C"`;
}

function groupRow(sql: Sql, accountId: string, groupName: string) {
  return sql.one('SELECT * FROM iam_groups WHERE account_id = $1 AND name_key = $2', [accountId, nameKey(groupName)]);
}

async function ownerIdOf(sql: Sql, kind: IamPolicyOwnerKind, accountId: string, name: string): Promise<string | undefined> {
  const { table, id } = PRINCIPAL_TABLES[kind];
  const row = await sql.one(`SELECT ${id} AS owner_id FROM ${table} WHERE account_id = $1 AND name_key = $2`, [accountId, nameKey(name)]);
  return row?.owner_id;
}

async function insertAccessKeyRow(sql: Sql, record: AccessKeyRecord): Promise<boolean> {
  const inserted = await sql.run(
    `INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, created_at, expires_at, user_id, status, session_token_hash, session_attributes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (access_key_id) DO NOTHING`,
    [
      record.accessKeyId, record.accountId, record.principalArn, record.sealedSecret, record.createdAt.getTime(),
      record.expiresAt?.getTime() ?? null, record.userId ?? null, record.status ?? 'Active', record.sessionTokenHash ?? null,
      sessionAttributesColumn(record.session),
    ],
  );
  return inserted === 1;
}
