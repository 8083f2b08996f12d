import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type {
  AccessKeyRecord,
  AccessKeyStatus,
  AliasRecord,
  AuditEventDraft,
  AuditEventRecord,
  AuditLookup,
  FunctionPatch,
  FunctionRecord,
  BackingKeyRecord,
  ImportedMaterial,
  GrantRecord,
  KeyPatch,
  KeyRecord,
  KeyState,
  LabelPlanner,
  Page,
  PagedSecret,
  RotationLease,
  RotationRunPatch,
  RotationRunRecord,
  RotationStep,
  SecretAccessRecord,
  SecretPageRequest,
  SecretPatch,
  SecretRecord,
  SecretRotation,
  SecretVersionRecord,
  Tag,
  VersionDataKey,
  IamDeleteOutcome,
  ManagedPolicyRecord,
  IamIdentityRecord,
  IamGroupAddOutcome,
  IamGroupCreateOutcome,
  IamGroupDeleteOutcome,
  IamGroupRecord,
  IamGroupRemoveOutcome,
  IamGroupUpdateOutcome,
  IamPolicyOwnerKind,
  IamPrincipalKind,
  IamRoleChanges,
  IamRoleRecord,
  IamUserRename,
  IamUserRenameOutcome,
  IamTag,
  IamUserRecord,
  InlinePolicyRecord,
  UserAccessKeyOutcome,
} from '../records.js';
import type { OidcProviderCreateOutcome, OidcProviderRecord, OidcProviderUpdateOutcome } from '../records.js';
import type { RotationLag } from '../repositories/rotation.js';
import type { ReadCacheStats, Store } from '../store.js';
import { PostgresAuditTables } from './audit-tables.js';
import { PostgresFunctionTables } from './function-tables.js';
import { PostgresGrantTables } from './grant-tables.js';
import { PostgresIamTables } from './iam-tables.js';
import { PostgresOidcProviderTables } from './oidc-provider-tables.js';
import { PostgresKeyTables } from './key-tables.js';
import { PostgresMetaTables } from './meta-tables.js';
import { PostgresRootSealedTables } from './root-sealed-tables.js';
import type { RootSealedKind, RootSealedRecord } from '../repositories/root-sealed.js';
import { PostgresParameterTables } from './parameter-tables.js';
import type { ParametersRepository } from '../repositories/parameters.js';
import { applyPostgresMigrations } from './migration-runner.js';
import { postgresMigrations } from './migrations.js';
import { PostgresRotationTables } from './rotation-tables.js';
import { PostgresSecretTables } from './secret-tables.js';
import { autocommitStatement, inTransaction, outsideTransaction, type Pool, type Sql } from './transaction.js';
import { isUnreachable } from './unavailable.js';
import { TimedReadCache, type ReadWithAlongside } from './read-cache.js';
import { ReadCacheNotifications } from './read-cache-notifications.js';
import { secretScope, versionScope, type WriteScope } from '../read-cache-scope.js';
import { isPlainRead } from '../plain-read.js';
import { PostgresTransfer } from './transfer.js';
import type { AuditAnchoring } from '../audit-anchor.js';

export type PostgresStoreOptions = {
  /**
   * postgres://USER[:PASSWORD]@HOST:PORT[,HOST2:PORT2...]/DB[?target_session_attrs=read-write]: with several
   * hosts the driver connects to them in order and, with target_session_attrs=read-write, only to the primary,
   * so after a failover new connections find the promoted standby.
   */
  connectionString: string;
  /** Connections kept by this process's pool (default 10): the bound on its concurrent transactions. */
  poolSize?: number;
  /**
   * The longest a statement may wait for a connection and run (default 10 s); past it the call fails with a
   * retryable error instead of hanging on a database that stopped answering. Connecting has the same bound.
   */
  statementTimeoutMs?: number;
  /**
   * The bound on how stale another node's change can be seen in this node's cache of point reads (a secret, a
   * version, a key, an access key, an IAM identity): default 500 ms; 0 turns the cache off. An entry lives that
   * long, or longer while the node hears other nodes' writes (read-cache-notifications.ts). This node's own
   * writes empty it at once (read-cache.ts).
   */
  readCacheMaxAgeMs?: number;
  /** The read cache's bound in bytes (64 MiB when not given; `coffer server --read-cache-size`). */
  readCacheMaxBytes?: number;
};

const DEFAULT_STATEMENT_TIMEOUT_MS = 10_000;
const DEFAULT_READ_CACHE_MAX_AGE_MS = 500;
/** As the SQLite backend's: a busy working set of records, and a byte bound against large secrets. */
const READ_CACHE_LIMITS = { maxEntries: 30_000, maxBytes: 64 * 1024 * 1024 };
/**
 * How long an entry lives while the node hears of other nodes' writes (read-cache-notifications.ts): the bound on
 * how long a change it cannot hear of (made with psql, or by a node of a version that does not notify) stays unseen.
 */
const READ_CACHE_MAX_LIFETIME_MS = 30_000;

/** BIGINT (int8) columns hold epoch milliseconds and counts, all within Number's exact range. */
const BIGINT_AS_NUMBER = { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) };

/** The driver's options for a store: timeouts in seconds, notices (CREATE TABLE IF NOT EXISTS ...) not printed. */
export function driverOptions(options: PostgresStoreOptions): postgres.Options<Record<string, postgres.PostgresType>> {
  const timeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const timeoutSeconds = timeoutMs / 1000;
  return {
    max: options.poolSize ?? 10,
    types: { bigint: BIGINT_AS_NUMBER },
    onnotice: () => undefined,
    connect_timeout: timeoutSeconds,
    query_timeout: timeoutSeconds,
    // The server's own limit as well as the driver's: the driver's query_timeout does not cover a statement
    // whose parse waits on a lock (a prepared statement's first Parse/Describe), the server's covers every wait.
    connection: { application_name: 'coffer', statement_timeout: Math.ceil(timeoutMs) },
    backoff: reconnectDelaySeconds,
    ...(asksForReadWrite(options.connectionString) && { target_session_attrs: 'primary' }),
  };
}

/**
 * Seconds between the pool's attempts to reach a database that refused: 50-100 ms after the first failure,
 * doubling to at most 0.5-1 s. Until its next attempt the driver fails every call at once, and its own delay
 * grows to 10-20 s, so a node would go on answering 503 that long after the database (or a promoted standby)
 * is back.
 */
function reconnectDelaySeconds(retries: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1);
}

/**
 * Whether the URL asks for `target_session_attrs=read-write`, which the driver must be told as `primary`.
 * The driver (postgres 4.2.0) judges read-write by default_transaction_read_only alone, and a PostgreSQL 14+
 * hot standby reports that as off: a connection opened while the primary is away lands on the standby, and
 * stays there after the primary is back, failing every transaction (SERIALIZABLE is refused in recovery) for
 * its whole lifetime. `primary` checks in_hot_standby, as libpq's read-write does; a primary made read-only
 * answers writes with 25006, which counts as unreachable (unavailable.ts).
 * https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-TARGET-SESSION-ATTRS
 */
function asksForReadWrite(connectionString: string): boolean {
  return /[?&]target_session_attrs=read-write(&|$)/.test(connectionString);
}

/**
 * The PostgreSQL backend: every repository of ../store.ts on one database through the `postgres` driver's pool, every method one SERIALIZABLE transaction retried on
 * serialization failure (transaction.ts), and a migration runner several nodes may run together
 * (migration-runner.ts). Each repository's SQL lives in its own `<domain>-tables.ts`, as in the SQLite backend.
 */
export class PostgresStore implements Store {
  readonly #pool: Pool;
  readonly #meta: PostgresMetaTables;
  readonly #iam: PostgresIamTables;
  readonly #oidcProviders: PostgresOidcProviderTables;
  readonly #rootSealed: PostgresRootSealedTables;
  readonly #parameters: PostgresParameterTables;
  readonly #keys: PostgresKeyTables;
  readonly #grants: PostgresGrantTables;
  readonly #secrets: PostgresSecretTables;
  readonly #rotation: PostgresRotationTables;
  readonly #functions: PostgresFunctionTables;
  readonly #audit: PostgresAuditTables;
  readonly #cache: TimedReadCache;
  /** Other nodes' writes, heard so that cache entries can outlive their max age (read-cache-notifications.ts). */
  readonly #notifications: ReadCacheNotifications;
  /** readCacheMaxAgeMs 0 turns the cache off: nothing to keep fresh, so nothing to listen to (writes still announce). */
  readonly #cacheOn: boolean;
  /**
   * A COMMIT slower than half the statement timeout answers 503 rather than wait for the driver to cancel it,
   * which would acknowledge a write the synchronous standby never got (transaction.ts, beginWithCommitDeadline).
   */
  readonly #commitWait: { commitWaitMs: number };
  /** Names this process in the migrations lock row, for whoever inspects a stuck start. */
  readonly #owner = `coffer-${process.pid}-${randomUUID()}`;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    this.#pool = postgres(options.connectionString, driverOptions(options));
    this.#commitWait = { commitWaitMs: (options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS) / 2 };
    this.#cache = new TimedReadCache({
      ...READ_CACHE_LIMITS,
      ...(options.readCacheMaxBytes === undefined ? {} : { maxBytes: options.readCacheMaxBytes }),
      maxAgeMs: options.readCacheMaxAgeMs ?? DEFAULT_READ_CACHE_MAX_AGE_MS,
      maxLifetimeMs: READ_CACHE_MAX_LIFETIME_MS,
    });
    this.#cacheOn = (options.readCacheMaxAgeMs ?? DEFAULT_READ_CACHE_MAX_AGE_MS) > 0;
    this.#notifications = new ReadCacheNotifications(postgres(options.connectionString, { ...driverOptions(options), max: 1 }), this.#cache, this.#owner);
    const transaction = <T>(body: (sql: Sql) => Promise<T>, scope?: WriteScope) => this.#writeAware(body, scope);
    this.#meta = new PostgresMetaTables(transaction);
    this.#iam = new PostgresIamTables(transaction);
    this.#oidcProviders = new PostgresOidcProviderTables(transaction);
    this.#rootSealed = new PostgresRootSealedTables(transaction);
    const pointRead = <T>(body: (sql: Sql) => Promise<T>) => outsideTransaction(this.#pool, body);
    this.#keys = new PostgresKeyTables(transaction, pointRead);
    this.#grants = new PostgresGrantTables(transaction);
    // The point reads of GetSecretValue and of sealing and opening values (on a cache miss) go as one SELECT
    // each, without BEGIN/COMMIT around it (transaction.ts, outsideTransaction).
    this.#secrets = new PostgresSecretTables(transaction, pointRead);
    this.#parameters = new PostgresParameterTables(transaction, pointRead);
    this.#rotation = new PostgresRotationTables(transaction);
    this.#functions = new PostgresFunctionTables(transaction);
    // Audit appends touch only audit_events, which nothing reads through the cache: they leave it alone (every
    // request appends one, and emptying the cache for each would leave nothing cached).
    // An append usually goes as one statement after the chain's end this node wrote last (audit-tables.ts).
    this.#audit = new PostgresAuditTables(
      (body) => inTransaction(this.#pool, body, this.#commitWait),
      (body) => autocommitStatement(this.#pool, body, this.#commitWait),
    );
  }

  /** The read cache, for a read through it: the first such read starts hearing other nodes' writes (unless it is off). */
  get #readCache(): TimedReadCache {
    if (this.#cacheOn) this.#notifications.used();
    return this.#cache;
  }

  /** The read cache's counters (metrics). */
  readCacheStats(): ReadCacheStats {
    return this.#cache.stats();
  }

  /**
   * A transaction whose writes, if it made any, empty the read cache when it ends (committed or not), and are
   * announced to the other nodes when they committed or may have (read-cache-notifications.ts). With a scope (the
   * secrets it writes, named by secret-tables.ts), only those secrets' entries, here and on the other nodes.
   */
  async #writeAware<T>(body: (sql: Sql) => Promise<T>, scope?: WriteScope): Promise<T> {
    let wrote = false;
    const noting = (text: string) => {
      if (!isPlainRead(text)) wrote = true;
      return text;
    };
    let result: T;
    try {
      result = await inTransaction(
        this.#pool,
        (sql) =>
          body({
            rows: (text, params) => sql.rows(noting(text), params),
            one: (text, params) => sql.one(noting(text), params),
            run: (text, params) => sql.run(noting(text), params),
          }),
        this.#commitWait,
      );
    } catch (error) {
      if (wrote) {
        this.#emptyAfterWrite(scope);
        // A connection lost or a COMMIT cut off: the write may have committed all the same.
        if (isUnreachable((error as { cause?: unknown }).cause)) void this.#notifications.announceWrite(scope);
      }
      throw error;
    }
    if (wrote) {
      this.#emptyAfterWrite(scope);
      // After the COMMIT, not in the transaction: a transaction that notifies holds a database-wide lock until its
      // commit is flushed, which would make every write of the deployment commit one at a time. Awaited, so that
      // the caller is answered only once every listening node can hear of the write.
      await this.#notifications.announceWrite(scope);
    }
    return result;
  }

  #emptyAfterWrite(scope: WriteScope | undefined): void {
    if (scope) this.#cache.invalidateScope(scope);
    else this.#cache.invalidate();
  }

  async migrate(): Promise<void> {
    await applyPostgresMigrations(this.#pool, postgresMigrations, this.#owner);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#audit.close();
    await Promise.all([this.#notifications.close(), this.#pool.end({ timeout: 5 })]);
  }

  /**
   * The whole store as rows, for `coffer migrate` (transfer.ts): read in one snapshot, or loaded into this
   * store when it is empty. It works on the pool directly; nothing else should use the store meanwhile.
   */
  transfer(): PostgresTransfer {
    return new PostgresTransfer(this.#pool, () => {
      this.#cache.invalidate();
      void this.#notifications.announceWrite();
    });
  }

  /**
   * Starts anchoring the audit chain heads this node appends (store/audit-anchor.ts), after checking the newest
   * anchor against the log: servers do, local commands do not. Without anchoring, nothing.
   */
  async startAuditWriter(anchoring?: AuditAnchoring): Promise<void> {
    if (anchoring) await this.#audit.startAnchoring(anchoring);
  }

  getMeta(name: string): Promise<Buffer | undefined> {
    return this.#meta.getMeta(name);
  }

  putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer> {
    return this.#meta.putMetaIfAbsent(name, value);
  }

  replaceMeta(name: string, expected: Buffer, replacement: Buffer | undefined): Promise<boolean> {
    return this.#meta.replaceMeta(name, expected, replacement);
  }

  listRootSealed(kind: RootSealedKind, after: string | undefined, limit: number): Promise<RootSealedRecord[]> {
    return this.#rootSealed.listRootSealed(kind, after, limit);
  }

  replaceRootSealed(record: RootSealedRecord, replacement: Buffer): Promise<boolean> {
    return this.#rootSealed.replaceRootSealed(record, replacement);
  }

  insertAccessKey(record: AccessKeyRecord): Promise<boolean> {
    return this.#iam.insertAccessKey(record);
  }

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.#readCache.get(`access-key\0${accessKeyId}`, () => this.#iam.getAccessKey(accessKeyId));
  }

  deleteExpiredAccessKeys(now: Date): Promise<number> {
    return this.#iam.deleteExpiredAccessKeys(now);
  }

  createAccount(accountId: string, createdAt: Date): Promise<boolean> {
    return this.#iam.createAccount(accountId, createdAt);
  }

  createIamUser(user: IamUserRecord): Promise<boolean> {
    return this.#iam.createIamUser(user);
  }

  getIamUser(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    return this.#iam.getIamUser(accountId, userName);
  }

  listIamUsers(accountId: string, pathPrefix: string): Promise<IamUserRecord[]> {
    return this.#iam.listIamUsers(accountId, pathPrefix);
  }

  deleteIamUser(accountId: string, userName: string): Promise<IamDeleteOutcome> {
    return this.#iam.deleteIamUser(accountId, userName);
  }

  createIamRole(role: IamRoleRecord): Promise<boolean> {
    return this.#iam.createIamRole(role);
  }

  getIamRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    return this.#iam.getIamRole(accountId, roleName);
  }

  listIamRoles(accountId: string, pathPrefix: string): Promise<IamRoleRecord[]> {
    return this.#iam.listIamRoles(accountId, pathPrefix);
  }

  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean> {
    return this.#iam.updateAssumeRolePolicy(accountId, roleName, document);
  }

  updateIamRole(accountId: string, roleName: string, changes: IamRoleChanges): Promise<IamRoleRecord | undefined> {
    return this.#iam.updateIamRole(accountId, roleName, changes);
  }

  renameIamUser(accountId: string, userName: string, next: IamUserRename): Promise<IamUserRenameOutcome> {
    return this.#iam.renameIamUser(accountId, userName, next);
  }

  deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome> {
    return this.#iam.deleteIamRole(accountId, roleName);
  }

  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'> {
    return this.#iam.tagIamPrincipal(accountId, kind, name, tags, maxTags);
  }

  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean> {
    return this.#iam.untagIamPrincipal(accountId, kind, name, tagKeys);
  }

  putInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policy: InlinePolicyRecord): Promise<boolean> {
    return this.#iam.putInlinePolicy(accountId, kind, name, policy);
  }

  getInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<{ policy?: InlinePolicyRecord } | undefined> {
    return this.#iam.getInlinePolicy(accountId, kind, name, policyName);
  }

  listInlinePolicyNames(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined> {
    return this.#iam.listInlinePolicyNames(accountId, kind, name);
  }

  deleteInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string): Promise<'deleted' | 'no-principal' | 'no-policy'> {
    return this.#iam.deleteInlinePolicy(accountId, kind, name, policyName);
  }

  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined> {
    return this.#readCache.get(`iam\0${accountId}\0${kind}\0${name}`, () => this.#iam.getIamIdentity(accountId, kind, name));
  }

  createIamGroup(group: IamGroupRecord, maxGroups: number): Promise<IamGroupCreateOutcome> {
    return this.#iam.createIamGroup(group, maxGroups);
  }

  getIamGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    return this.#iam.getIamGroup(accountId, groupName);
  }

  listIamGroups(accountId: string, pathPrefix: string): Promise<IamGroupRecord[]> {
    return this.#iam.listIamGroups(accountId, pathPrefix);
  }

  updateIamGroup(accountId: string, groupName: string, change: { newName?: string; newPath?: string }): Promise<IamGroupUpdateOutcome> {
    return this.#iam.updateIamGroup(accountId, groupName, change);
  }

  deleteIamGroup(accountId: string, groupName: string): Promise<IamGroupDeleteOutcome> {
    return this.#iam.deleteIamGroup(accountId, groupName);
  }

  addUserToGroup(accountId: string, groupName: string, userName: string, maxGroupsPerUser: number): Promise<IamGroupAddOutcome> {
    return this.#iam.addUserToGroup(accountId, groupName, userName, maxGroupsPerUser);
  }

  removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<IamGroupRemoveOutcome> {
    return this.#iam.removeUserFromGroup(accountId, groupName, userName);
  }

  getIamGroupWithMembers(accountId: string, groupName: string): Promise<{ group: IamGroupRecord; members: IamUserRecord[] } | undefined> {
    return this.#iam.getIamGroupWithMembers(accountId, groupName);
  }

  listIamGroupsForUser(accountId: string, userName: string): Promise<IamGroupRecord[] | undefined> {
    return this.#iam.listIamGroupsForUser(accountId, userName);
  }

  insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): Promise<UserAccessKeyOutcome> {
    return this.#iam.insertUserAccessKey(record, maxKeys);
  }

  listUserAccessKeys(userId: string): Promise<AccessKeyRecord[]> {
    return this.#iam.listUserAccessKeys(userId);
  }

  updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): Promise<boolean> {
    return this.#iam.updateUserAccessKeyStatus(userId, accessKeyId, status);
  }

  deleteUserAccessKey(userId: string, accessKeyId: string): Promise<boolean> {
    return this.#iam.deleteUserAccessKey(userId, accessKeyId);
  }

  insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): Promise<boolean> {
    return this.#iam.insertRootAccessKey(record, maxKeys);
  }

  deleteRootAccessKey(accountId: string, accessKeyId: string): Promise<boolean> {
    return this.#iam.deleteRootAccessKey(accountId, accessKeyId);
  }

  listRootAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return this.#iam.listRootAccessKeys(accountId);
  }

  // Managed policies, attachments and permissions boundaries (IamRepository).
  createManagedPolicy(policy: ManagedPolicyRecord, document: string) {
    return this.#iam.createManagedPolicy(policy, document);
  }

  getManagedPolicy(arn: string) {
    return this.#iam.getManagedPolicy(arn);
  }

  listManagedPolicies(accountId: string, pathPrefix: string) {
    return this.#iam.listManagedPolicies(accountId, pathPrefix);
  }

  deleteManagedPolicy(arn: string) {
    return this.#iam.deleteManagedPolicy(arn);
  }

  createManagedPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: Date, maxVersions: number) {
    return this.#iam.createManagedPolicyVersion(arn, document, setAsDefault, createdAt, maxVersions);
  }

  getManagedPolicyVersion(arn: string, versionId: string) {
    return this.#iam.getManagedPolicyVersion(arn, versionId);
  }

  listManagedPolicyVersions(arn: string) {
    return this.#iam.listManagedPolicyVersions(arn);
  }

  deleteManagedPolicyVersion(arn: string, versionId: string) {
    return this.#iam.deleteManagedPolicyVersion(arn, versionId);
  }

  setDefaultManagedPolicyVersion(arn: string, versionId: string, updatedAt: Date) {
    return this.#iam.setDefaultManagedPolicyVersion(arn, versionId, updatedAt);
  }

  tagManagedPolicy(arn: string, tags: IamTag[], maxTags: number) {
    return this.#iam.tagManagedPolicy(arn, tags, maxTags);
  }

  untagManagedPolicy(arn: string, tagKeys: string[]) {
    return this.#iam.untagManagedPolicy(arn, tagKeys);
  }

  getManagedPolicyDocument(arn: string) {
    return this.#iam.getManagedPolicyDocument(arn);
  }

  attachManagedPolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyArn: string, maxAttached: number, requireStoredPolicy: boolean) {
    return this.#iam.attachManagedPolicy(accountId, kind, name, policyArn, maxAttached, requireStoredPolicy);
  }

  detachManagedPolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyArn: string) {
    return this.#iam.detachManagedPolicy(accountId, kind, name, policyArn);
  }

  listAttachedManagedPolicies(accountId: string, kind: IamPolicyOwnerKind, name: string) {
    return this.#iam.listAttachedManagedPolicies(accountId, kind, name);
  }

  listPolicyEntities(accountId: string, policyArn: string) {
    return this.#iam.listPolicyEntities(accountId, policyArn);
  }

  listManagedPolicyUsage(accountId: string) {
    return this.#iam.listManagedPolicyUsage(accountId);
  }

  setPermissionsBoundary(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string | undefined) {
    return this.#iam.setPermissionsBoundary(accountId, kind, name, policyArn);
  }

  // IAM OpenID Connect providers (oidc-provider-tables.ts).

  createOidcProvider(record: OidcProviderRecord, maxPerAccount: number): Promise<OidcProviderCreateOutcome> {
    return this.#oidcProviders.createOidcProvider(record, maxPerAccount);
  }

  getOidcProvider(accountId: string, arn: string): Promise<OidcProviderRecord | undefined> {
    return this.#oidcProviders.getOidcProvider(accountId, arn);
  }

  listOidcProviders(accountId: string): Promise<OidcProviderRecord[]> {
    return this.#oidcProviders.listOidcProviders(accountId);
  }

  deleteOidcProvider(accountId: string, arn: string): Promise<boolean> {
    return this.#oidcProviders.deleteOidcProvider(accountId, arn);
  }

  addOidcProviderClientId(accountId: string, arn: string, clientId: string, maxClientIds: number): Promise<OidcProviderUpdateOutcome> {
    return this.#oidcProviders.addOidcProviderClientId(accountId, arn, clientId, maxClientIds);
  }

  removeOidcProviderClientId(accountId: string, arn: string, clientId: string): Promise<boolean> {
    return this.#oidcProviders.removeOidcProviderClientId(accountId, arn, clientId);
  }

  setOidcProviderThumbprints(accountId: string, arn: string, thumbprints: string[]): Promise<boolean> {
    return this.#oidcProviders.setOidcProviderThumbprints(accountId, arn, thumbprints);
  }

  tagOidcProvider(accountId: string, arn: string, tags: IamTag[], maxTags: number): Promise<OidcProviderUpdateOutcome> {
    return this.#oidcProviders.tagOidcProvider(accountId, arn, tags, maxTags);
  }

  untagOidcProvider(accountId: string, arn: string, tagKeys: string[]): Promise<boolean> {
    return this.#oidcProviders.untagOidcProvider(accountId, arn, tagKeys);
  }

  setOidcProviderJwks(accountId: string, arn: string, jwks: string | undefined): Promise<boolean> {
    return this.#oidcProviders.setOidcProviderJwks(accountId, arn, jwks);
  }

  createKey(key: KeyRecord, backing: BackingKeyRecord | undefined, tags: Tag[]): Promise<void> {
    return this.#keys.createKey(key, backing, tags);
  }

  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.#readCache.get(`key-in\0${accountId}\0${region}\0${keyId}`, () => this.#keys.getKey(accountId, region, keyId));
  }

  listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Promise<Page<KeyRecord>> {
    return this.#keys.listKeys(accountId, region, page);
  }

  updateKey(accountId: string, region: string, keyId: string, patch: KeyPatch, whenStates?: readonly KeyState[]): Promise<KeyRecord | undefined> {
    return this.#keys.updateKey(accountId, region, keyId, patch, whenStates);
  }

  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyOnDemand(backing, maxOnDemandRotations, replicaBackings);
  }

  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyOnSchedule(backing, dueDate, nextRotationDate, replicaBackings);
  }

  rotateKeyForUsage(backing: BackingKeyRecord, fromBackingKeyId: string, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyForUsage(backing, fromBackingKeyId, replicaBackings);
  }

  reserveEncryptions(backingKeyId: string, count: number): Promise<number> {
    return this.#keys.reserveEncryptions(backingKeyId, count);
  }

  importKeyMaterial(backing: BackingKeyRecord, material: ImportedMaterial, whenStates: readonly KeyState[]): Promise<KeyRecord | undefined> {
    return this.#keys.importKeyMaterial(backing, material, whenStates);
  }

  deleteImportedKeyMaterial(keyId: string, condition: { whenStates?: readonly KeyState[]; expiredBy?: Date }): Promise<KeyRecord | undefined> {
    return this.#keys.deleteImportedKeyMaterial(keyId, condition);
  }

  listKeysWithExpiredMaterial(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysWithExpiredMaterial(now, limit);
  }

  getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined> {
    return this.#readCache.get(`backing\0${keyId}\0${backingKeyId}`, () => this.#keys.getBackingKey(keyId, backingKeyId));
  }

  listBackingKeys(keyId: string): Promise<BackingKeyRecord[]> {
    return this.#keys.listBackingKeys(keyId);
  }

  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysDueForDeletion(now, limit);
  }

  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysDueForRotation(now, limit);
  }

  countKeysByState(): Promise<Partial<Record<KeyState, number>>> {
    return this.#keys.countKeysByState();
  }

  destroyKey(keyId: string, now: Date): Promise<boolean> {
    return this.#keys.destroyKey(keyId, now);
  }

  putKeyTags(keyId: string, tags: Tag[], maxTags: number): Promise<boolean> {
    return this.#keys.putKeyTags(keyId, tags, maxTags);
  }

  removeKeyTags(keyId: string, tagKeys: string[]): Promise<void> {
    return this.#keys.removeKeyTags(keyId, tagKeys);
  }

  listKeyTags(keyId: string): Promise<Tag[]> {
    return this.#keys.listKeyTags(keyId);
  }

  createAlias(alias: AliasRecord): Promise<boolean> {
    return this.#keys.createAlias(alias);
  }

  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): Promise<boolean> {
    return this.#keys.updateAlias(accountId, region, aliasName, targetKeyId, now);
  }

  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.#keys.deleteAlias(accountId, region, aliasName);
  }

  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    return this.#keys.getAlias(accountId, region, aliasName);
  }

  listAliases(accountId: string, region: string, page: { limit: number; marker?: string; keyId?: string }): Promise<Page<AliasRecord>> {
    return this.#keys.listAliases(accountId, region, page);
  }

  createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): Promise<string> {
    return this.#keys.createManagedKey(key, backing, aliasName);
  }

  getKeyById(keyId: string, region?: string): Promise<KeyRecord | undefined> {
    return this.#readCache.get(`key\0${keyId}\0${region ?? ''}`, () => this.#keys.getKeyById(keyId, region));
  }

  listMultiRegionKeys(multiRegionKeyId: string): Promise<KeyRecord[]> {
    return this.#keys.listMultiRegionKeys(multiRegionKeyId);
  }

  replicateKey(replica: KeyRecord, backings: readonly BackingKeyRecord[], tags: Tag[]): Promise<'created' | 'exists' | 'changed'> {
    return this.#keys.replicateKey(replica, backings, tags);
  }

  updatePrimaryRegion(multiRegionKeyId: string, fromRegion: string, toRegion: string): Promise<boolean> {
    return this.#keys.updatePrimaryRegion(multiRegionKeyId, fromRegion, toRegion);
  }

  scheduleMultiRegionKeyDeletion(accountId: string, region: string, keyId: string, pendingWindowDays: number, now: Date): Promise<KeyRecord | undefined> {
    return this.#keys.scheduleMultiRegionKeyDeletion(accountId, region, keyId, pendingWindowDays, now);
  }

  createGrant(grant: GrantRecord): Promise<GrantRecord> {
    return this.#grants.createGrant(grant);
  }

  getGrant(keyId: string, grantId: string): Promise<GrantRecord | undefined> {
    return this.#grants.getGrant(keyId, grantId);
  }

  listGrants(keyId: string, page: { limit: number; marker?: string; grantId?: string; granteePrincipal?: string }): Promise<Page<GrantRecord>> {
    return this.#grants.listGrants(keyId, page);
  }

  listRetirableGrants(retiringPrincipal: string, page: { limit: number; marker?: string }): Promise<Page<GrantRecord>> {
    return this.#grants.listRetirableGrants(retiringPrincipal, page);
  }

  listGrantsForGrantee(keyId: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]> {
    return this.#grants.listGrantsForGrantee(keyId, granteePrincipals);
  }

  deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return this.#grants.deleteGrant(keyId, grantId);
  }

  createSecret(secret: SecretRecord, tags: Tag[], firstVersion?: Omit<SecretVersionRecord, 'stages'>): Promise<{ created: true } | { created: false; existing: SecretRecord }> {
    return this.#secrets.createSecret(secret, tags, firstVersion);
  }

  getSecretByArn(arn: string): Promise<SecretRecord | undefined> {
    return this.#readCache.getWith(secretArnKey(arn), () => this.#secretWithCurrent({ arn }), undefined, secretScope);
  }

  getSecretByName(accountId: string, region: string, name: string): Promise<SecretRecord | undefined> {
    return this.#readCache.getWith(secretNameKey(accountId, region, name), () => this.#secretWithCurrent({ accountId, region, name }), undefined, secretScope);
  }

  /**
   * A secret looked up on a cache miss, with its AWSCURRENT version read in the same statement and kept beside it
   * (and the secret under its other key): GetSecretValue's next read is then a hit, one round trip where it was two.
   */
  async #secretWithCurrent(by: Parameters<PostgresSecretTables['getSecretWithCurrentVersion']>[0]): Promise<ReadWithAlongside<SecretRecord>> {
    const found = await this.#secrets.getSecretWithCurrentVersion(by);
    if (!found) return { value: undefined };
    const { secret, current } = found;
    const alongside: Array<[string, object, string]> = [
      'arn' in by ? [secretNameKey(secret.accountId, secret.region, secret.name), secret, secret.arn] : [secretArnKey(secret.arn), secret, secret.arn],
    ];
    if (current && hasValue(current)) alongside.push([stageKey(secret.arn, 'AWSCURRENT'), current, secret.arn]);
    return { value: secret, alongside };
  }

  listSecretPage(accountId: string, region: string, page: SecretPageRequest): Promise<PagedSecret[]> {
    return this.#secrets.listSecretPage(accountId, region, page);
  }

  listSecrets(accountId: string, region: string): Promise<Array<SecretRecord & { tags: Tag[] }>> {
    return this.#secrets.listSecrets(accountId, region);
  }

  listVersionStages(secretArns: string[]): Promise<Record<string, Record<string, string[]>>> {
    return this.#secrets.listVersionStages(secretArns);
  }

  addSecretReplicas(...args: Parameters<PostgresSecretTables['addSecretReplicas']>) {
    return this.#secrets.addSecretReplicas(...args);
  }

  listSecretReplicas(primaryArns: string[]) {
    return this.#secrets.listSecretReplicas(primaryArns);
  }

  listSecretReplicasToSync(limit: number) {
    return this.#secrets.listSecretReplicasToSync(limit);
  }

  beginReplicaSync(primaryArn: string, region: string) {
    return this.#secrets.beginReplicaSync(primaryArn, region);
  }

  applyReplicaSync(...args: Parameters<PostgresSecretTables['applyReplicaSync']>) {
    return this.#secrets.applyReplicaSync(...args);
  }

  failReplicaSync(primaryArn: string, region: string, generation: number, message: string) {
    return this.#secrets.failReplicaSync(primaryArn, region, generation, message);
  }

  setReplicaKmsKey(primaryArn: string, region: string, kmsKeyId: string | undefined) {
    return this.#secrets.setReplicaKmsKey(primaryArn, region, kmsKeyId);
  }

  removeSecretReplicas(primaryArn: string, regions: string[]) {
    return this.#secrets.removeSecretReplicas(primaryArn, regions);
  }

  promoteReplicaSecret(replicaArn: string, primaryArn: string) {
    return this.#secrets.promoteReplicaSecret(replicaArn, primaryArn);
  }

  markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date): Promise<SecretRecord | undefined> {
    return this.#secrets.markSecretDeleted(arn, deletedDate, scheduledDeletionDate);
  }

  restoreSecret(arn: string): Promise<SecretRecord | undefined> {
    return this.#secrets.restoreSecret(arn);
  }

  setSecretResourcePolicy(arn: string, policy: string | undefined): Promise<SecretRecord | undefined> {
    return this.#secrets.setSecretResourcePolicy(arn, policy);
  }

  destroySecret(arn: string): Promise<boolean> {
    return this.#secrets.destroySecret(arn);
  }

  listSecretsDueForDeletion(now: Date, limit: number): Promise<SecretRecord[]> {
    return this.#secrets.listSecretsDueForDeletion(now, limit);
  }

  recordSecretAccesses(accesses: readonly SecretAccessRecord[]): Promise<void> {
    return this.#secrets.recordSecretAccesses(accesses);
  }

  putSecretVersion(version: Omit<SecretVersionRecord, 'stages'>, planner: LabelPlanner, lastChangedDate: Date): Promise<{ inserted: true } | { inserted: false; existing: SecretVersionRecord }> {
    return this.#secrets.putSecretVersion(version, planner, lastChangedDate);
  }

  updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): Promise<void> {
    return this.#secrets.updateSecretLabels(secretArn, planner, lastChangedDate);
  }

  rewrapSecretVersions(secretArn: string, dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>, patch: SecretPatch): Promise<SecretRecord | undefined> {
    return this.#secrets.rewrapSecretVersions(secretArn, dataKeys, patch);
  }

  getSecretVersion(secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined> {
    return this.#readCache.get(`version\0${secretArn}\0${versionId}`, () => this.#secrets.getSecretVersion(secretArn, versionId), hasValue, versionScope);
  }

  getSecretVersionByStage(secretArn: string, stage: string): Promise<SecretVersionRecord | undefined> {
    return this.#readCache.get(stageKey(secretArn, stage), () => this.#secrets.getSecretVersionByStage(secretArn, stage), hasValue, versionScope);
  }

  listSecretVersions(secretArn: string): Promise<SecretVersionRecord[]> {
    return this.#secrets.listSecretVersions(secretArn);
  }

  putSecretTags(arn: string, tags: Tag[]): Promise<void> {
    return this.#secrets.putSecretTags(arn, tags);
  }

  removeSecretTags(arn: string, tagKeys: string[]): Promise<void> {
    return this.#secrets.removeSecretTags(arn, tagKeys);
  }

  listSecretTags(arn: string): Promise<Tag[]> {
    return this.#secrets.listSecretTags(arn);
  }

  setSecretRotation(arn: string, rotation: SecretRotation): Promise<SecretRecord | undefined> {
    return this.#secrets.setSecretRotation(arn, rotation);
  }

  listSecretsDueForRotation(now: Date, limit: number): Promise<SecretRecord[]> {
    return this.#rotation.listSecretsDueForRotation(now, limit);
  }

  rotationLag(now: Date): Promise<RotationLag> {
    return this.#rotation.rotationLag(now);
  }

  startRotationRun(run: RotationRunRecord): Promise<{ started: true } | { started: false; existing: RotationRunRecord }> {
    return this.#rotation.startRotationRun(run);
  }

  getOpenRotationRun(secretArn: string): Promise<RotationRunRecord | undefined> {
    return this.#rotation.getOpenRotationRun(secretArn);
  }

  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): Promise<RotationRunRecord | undefined> {
    return this.#rotation.claimRotationRun(now, leaseOwner, leaseMs);
  }

  renewRotationLease(secretArn: string, token: string, lease: RotationLease, expiresAt: Date): Promise<boolean> {
    return this.#rotation.renewRotationLease(secretArn, token, lease, expiresAt);
  }

  recordRotationProgress(secretArn: string, token: string, lease: RotationLease, step: RotationStep, updatedAt: Date): Promise<boolean> {
    return this.#rotation.recordRotationProgress(secretArn, token, lease, step, updatedAt);
  }

  updateRotationRun(secretArn: string, token: string, lease: RotationLease, patch: RotationRunPatch): Promise<boolean> {
    return this.#rotation.updateRotationRun(secretArn, token, lease, patch);
  }

  completeRotationRun(secretArn: string, token: string, lease: RotationLease, finishedAt: Date, rotation: SecretRotation): Promise<boolean> {
    return this.#rotation.completeRotationRun(secretArn, token, lease, finishedAt, rotation);
  }

  retryRotationRun(secretArn: string, token: string, now: Date): Promise<void> {
    return this.#rotation.retryRotationRun(secretArn, token, now);
  }

  cancelRotationRun(secretArn: string, token: string, now: Date): Promise<void> {
    return this.#rotation.cancelRotationRun(secretArn, token, now);
  }

  createFunction(record: FunctionRecord): Promise<boolean> {
    return this.#functions.createFunction(record);
  }

  getFunction(accountId: string, region: string, name: string): Promise<FunctionRecord | undefined> {
    return this.#functions.getFunction(accountId, region, name);
  }

  listFunctions(accountId: string, region: string): Promise<FunctionRecord[]> {
    return this.#functions.listFunctions(accountId, region);
  }

  updateFunction(accountId: string, region: string, name: string, patch: FunctionPatch): Promise<FunctionRecord | undefined> {
    return this.#functions.updateFunction(accountId, region, name, patch);
  }

  deleteFunction(accountId: string, region: string, name: string): Promise<boolean> {
    return this.#functions.deleteFunction(accountId, region, name);
  }

  listFunctionsWithClearEnvironment(): Promise<FunctionRecord[]> {
    return this.#functions.listFunctionsWithClearEnvironment();
  }

  // SSM parameters (parameter-tables.ts).

  putParameter(...args: Parameters<ParametersRepository['putParameter']>): ReturnType<ParametersRepository['putParameter']> {
    return this.#parameters.putParameter(...args);
  }

  /** GetParameter's one read, kept in the node's read cache as a secret's are (fresh within its max age). */
  getParameter(...[accountId, region, name, selector]: Parameters<ParametersRepository['getParameter']>): ReturnType<ParametersRepository['getParameter']> {
    const key = `parameter\0${accountId}\0${region}\0${name}\0${selector?.version ?? ''}\0${selector?.label ?? ''}`;
    return this.#readCache.get(key, () => this.#parameters.getParameter(accountId, region, name, selector));
  }

  listParameterVersions(...args: Parameters<ParametersRepository['listParameterVersions']>): ReturnType<ParametersRepository['listParameterVersions']> {
    return this.#parameters.listParameterVersions(...args);
  }

  listParameters(...args: Parameters<ParametersRepository['listParameters']>): ReturnType<ParametersRepository['listParameters']> {
    return this.#parameters.listParameters(...args);
  }

  deleteParameter(...args: Parameters<ParametersRepository['deleteParameter']>): ReturnType<ParametersRepository['deleteParameter']> {
    return this.#parameters.deleteParameter(...args);
  }

  deleteExpiredParameters(...args: Parameters<ParametersRepository['deleteExpiredParameters']>): ReturnType<ParametersRepository['deleteExpiredParameters']> {
    return this.#parameters.deleteExpiredParameters(...args);
  }

  labelParameterVersion(...args: Parameters<ParametersRepository['labelParameterVersion']>): ReturnType<ParametersRepository['labelParameterVersion']> {
    return this.#parameters.labelParameterVersion(...args);
  }

  unlabelParameterVersion(...args: Parameters<ParametersRepository['unlabelParameterVersion']>): ReturnType<ParametersRepository['unlabelParameterVersion']> {
    return this.#parameters.unlabelParameterVersion(...args);
  }

  getParameterTags(...args: Parameters<ParametersRepository['getParameterTags']>): ReturnType<ParametersRepository['getParameterTags']> {
    return this.#parameters.getParameterTags(...args);
  }

  tagParameter(...args: Parameters<ParametersRepository['tagParameter']>): ReturnType<ParametersRepository['tagParameter']> {
    return this.#parameters.tagParameter(...args);
  }

  untagParameter(...args: Parameters<ParametersRepository['untagParameter']>): ReturnType<ParametersRepository['untagParameter']> {
    return this.#parameters.untagParameter(...args);
  }

  appendAuditEvent(draft: AuditEventDraft): Promise<AuditEventRecord> {
    return this.#audit.appendAuditEvent(draft);
  }

  appendAuditEvents(drafts: AuditEventDraft[]): Promise<AuditEventRecord[]> {
    return this.#audit.appendAuditEvents(drafts);
  }

  probeAuditAppend(): Promise<void> {
    return this.#audit.probeAuditAppend();
  }

  pruneAuditEvents(throughSequence: number): Promise<number> {
    return this.#audit.pruneAuditEvents(throughSequence);
  }

  listAuditEvents(afterSequence: number, limit: number): Promise<AuditEventRecord[]> {
    return this.#audit.listAuditEvents(afterSequence, limit);
  }

  lookupAuditEvents(lookup: AuditLookup): Promise<AuditEventRecord[]> {
    return this.#audit.lookupAuditEvents(lookup);
  }

  lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }): Promise<AuditEventRecord | undefined> {
    return this.#audit.lastSuccessfulAuditEvent(query);
  }
}

/**
 * Whether a version is kept in the read cache: not RotateSecret's value-less AWSPENDING placeholder, which a
 * rotation function asks for and then fills, often through another node (a load balancer in front): kept, it
 * would answer ResourceNotFoundException here for a value already written there.
 */
function hasValue(version: SecretVersionRecord): boolean {
  return version.sealedValue !== undefined;
}

/** The read cache's keys of the records GetSecretValue reads (one place, since a read may fill another's key). */
function secretArnKey(arn: string): string {
  return `secret-arn\0${arn}`;
}

function secretNameKey(accountId: string, region: string, name: string): string {
  return `secret-name\0${accountId}\0${region}\0${name}`;
}

function stageKey(secretArn: string, stage: string): string {
  return `stage\0${secretArn}\0${stage}`;
}
