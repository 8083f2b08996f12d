import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { applyMigrations } from './migration-runner.js';
import { sqliteMigrations } from './migrations.js';
import { SqliteAuditTables } from './audit-tables.js';
import type { AuditAppender, AuditWriterAnchoring } from './audit-writer.js';
import { SqliteFunctionTables } from './function-tables.js';
import { SqliteGrantTables } from './grant-tables.js';
import { SqliteKeyTables } from './key-tables.js';
import { SqliteIamTables } from './iam-tables.js';
import { SqliteOidcProviderTables } from './oidc-provider-tables.js';
import { SqliteParameterTables } from './parameter-tables.js';
import type { ParametersRepository } from '../repositories/parameters.js';
import { isPlainRead } from '../plain-read.js';
import { ReadCache } from './read-cache.js';
import { secretScope, versionScope, type WriteScope } from '../read-cache-scope.js';
import { SqliteRootSealedTables } from './root-sealed-tables.js';
import type { RootSealedKind, RootSealedRecord } from '../repositories/root-sealed.js';
import { SqliteRotationTables } from './rotation-tables.js';
import { SqliteSecretTables } from './secret-tables.js';
import { GroupCommit } from './group-commit.js';
import { SqliteTransfer } from './transfer.js';
import type {
  AccessKeyRecord,
  AccessKeyStatus,
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
  AuditEventDraft,
  AuditLookup,
  AliasRecord,
  BackingKeyRecord,
  ImportedMaterial,
  KeyPatch,
  KeyRecord,
  KeyState,
  FunctionRecord,
  GrantRecord,
  LabelPlanner,
  Page,
  RotationLease,
  RotationRunPatch,
  RotationRunRecord,
  RotationStep,
  SecretPatch,
  SecretAccessRecord,
  SecretRecord,
  SecretRotation,
  SecretVersionRecord,
  Tag,
  VersionDataKey,
} from '../records.js';
import type { OidcProviderCreateOutcome, OidcProviderRecord, OidcProviderUpdateOutcome } from '../records.js';
import type { ReadCacheStats, Store } from '../store.js';

type Row = Record<string, any>;

/**
 * The read cache's bound, in bytes of memory as V8 lays the records out (read-cache.ts): room for the secrets,
 * versions and keys of a working set of ~2,200 secrets of 1 KB (~1.7 KB a record: the secret by name and its
 * current version), or ~120 secrets of 64 KB. Half of it or more is the records' Buffers, the rest heap that V8
 * lets the old generation grow past: every MB here costs a MB of RSS or more at the peak. 8 MiB, not 32: peak RSS
 * over 100,000 secrets (ListSecrets and random reads at 64 connections) ≈ 25 MB lower (16 MiB: ≈ 19), while random
 * reads over them hit it little either way (15,000 from a fresh start: ≈ 6 % of their secret reads at 32 MiB,
 * ≈ 2.5 % at 8). The price is for a working set of ~2,200 to ~9,000 secrets read evenly, which no longer fits:
 * a GetSecretValue whose secret misses costs ≈ 30 µs more (bench/RESULTS.md, rss-200); such a deployment gives the
 * cache more room with `coffer server --read-cache-size` (readCacheMaxBytes).
 */
export const DEFAULT_SQLITE_READ_CACHE_BYTES = 8 * 1024 * 1024;

export type SqliteStoreOptions = {
  /** The read cache's bound in bytes (DEFAULT_SQLITE_READ_CACHE_BYTES when not given). */
  readCacheMaxBytes?: number;
  /**
   * Where audit appends go. Default: a writer thread of this process on `audit.db` beside the database file.
   * A cluster worker passes the primary's writer (server/cluster.ts): one writer for all processes.
   */
  auditAppender?: AuditAppender;
  /** Anchors of the audit chain, written by this process's audit writer thread (store/audit-anchor.ts). */
  auditAnchoring?: AuditWriterAnchoring;
  /**
   * Every transaction takes the write lock when it begins (BEGIN IMMEDIATE) and waits for it (busy_timeout)
   * instead of starting as a read: needed when several processes write the file (cluster mode), since SQLite
   * refuses, without waiting, to turn a read transaction into a write once another connection has committed.
   */
  immediateTransactions?: boolean;
};

/**
 * The embedded store: better-sqlite3 in WAL mode with synchronous=FULL, so a write is on disk before the API
 * acknowledges it. better-sqlite3 is synchronous, so every method's transaction runs without yielding.
 * The audit log is a second file, audit.db (audit-tables.ts), so audit appends never take this file's lock.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  /** Prepared statements by SQL, each marked if it writes: fetching one that does empties the read cache. */
  readonly #statements = new Map<string, { statement: Statement; writes: boolean }>();
  readonly #cache: ReadCache;
  /**
   * The secrets the method running now writes, when it names them (#writingSecrets): its statements then empty
   * only their entries. better-sqlite3 is synchronous, so no other method's statement runs while it is set.
   */
  #writeScope: WriteScope | undefined;
  /** Concurrent PutSecretValue writes, one transaction and one fsync per group (group-commit.ts). */
  readonly #groupCommit: GroupCommit;
  readonly #secrets: SqliteSecretTables;
  readonly #rotation: SqliteRotationTables;
  readonly #functions: SqliteFunctionTables;
  readonly #audit: SqliteAuditTables;
  readonly #keys: SqliteKeyTables;
  readonly #grants: SqliteGrantTables;
  readonly #iam: SqliteIamTables;
  readonly #oidcProviders: SqliteOidcProviderTables;
  readonly #rootSealed: SqliteRootSealedTables;
  readonly #parameters: SqliteParameterTables;
  readonly #auditPath: string | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    const inMemory = path === ':memory:';
    // Create the file 0600 first: SQLite gives its -wal and -shm files the database file's mode.
    if (!inMemory) closeSync(openSync(path, 'a', 0o600));
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    // Deleted and overwritten content is zeroed, not left in free space: a value sealed in place (a function's
    // variables from before sealing) or a deleted row must not stay readable in the file.
    this.#db.pragma('secure_delete = ON');
    // 4 MiB of SQLite's page cache, not better-sqlite3's 16 MiB: random reads over 100,000 secrets (a 300 MB file)
    // fill all of it while hitting it little; the read cache above holds the hot rows, the OS's file cache the
    // pages. In process, 15,000 random GetSecretValue: 13 MB less resident, CPU per read unchanged (RESULTS.md).
    this.#db.pragma('cache_size = -4000');
    if (options.immediateTransactions) beginTransactionsImmediately(this.#db);
    this.#groupCommit = new GroupCommit(this.#db);
    this.#cache = new ReadCache(this.#db, { maxBytes: options.readCacheMaxBytes ?? DEFAULT_SQLITE_READ_CACHE_BYTES });
    const prepare = (sql: string) => this.#stmt(sql);
    this.#secrets = new SqliteSecretTables(this.#db, prepare);
    this.#rotation = new SqliteRotationTables(this.#db, prepare);
    this.#functions = new SqliteFunctionTables(prepare);
    this.#auditPath = inMemory ? undefined : join(dirname(path), 'audit.db');
    this.#audit = new SqliteAuditTables(this.#db, prepare, {
      auditPath: this.#auditPath,
      appender: options.auditAppender,
      anchoring: options.auditAnchoring,
    });
    this.#keys = new SqliteKeyTables(this.#db, prepare);
    this.#grants = new SqliteGrantTables(prepare);
    this.#iam = new SqliteIamTables(this.#db, prepare);
    this.#oidcProviders = new SqliteOidcProviderTables(this.#db, prepare);
    this.#rootSealed = new SqliteRootSealedTables(prepare);
    this.#parameters = new SqliteParameterTables(this.#db, prepare);
  }

  /** Migrates coffer.db, then the audit log (audit.db's own migrations; see SqliteAuditTables.migrate). */
  migrate(): void {
    applyMigrations(this.#db, sqliteMigrations, 'schema_migrations');
    this.#audit.migrate();
    this.#cache.invalidate();
  }

  /** The read cache's counters (metrics). */
  readCacheStats(): ReadCacheStats {
    return this.#cache.stats();
  }

  /** Starts the audit writer thread ahead of the first append (servers; see SqliteAuditTables.startWriter). */
  startAuditWriter(): void {
    this.#audit.startWriter();
  }

  /**
   * The whole store as rows, for `coffer migrate` (transfer.ts): read in one snapshot, or loaded into this
   * store when it is empty. It works on the database directly; nothing else should use the store meanwhile.
   */
  transfer(): SqliteTransfer {
    return new SqliteTransfer(this.#db, this.#auditPath, () => this.#cache.invalidate());
  }

  close(): void {
    if (!this.#db.open) return;
    this.#groupCommit.flush();
    // The audit writer closes first, after the appends already sent to it.
    this.#audit.close();
    this.#db.close();
  }

  async getMeta(name: string): Promise<Buffer | undefined> {
    const exists = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!exists) return undefined;
    const row = this.#stmt('SELECT value FROM meta WHERE name = ?').get(name) as Row | undefined;
    return row?.value;
  }

  async putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer> {
    this.#stmt('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING').run(name, value);
    return (this.#stmt('SELECT value FROM meta WHERE name = ?').get(name) as Row).value;
  }

  async replaceMeta(name: string, expected: Buffer, replacement: Buffer | undefined): Promise<boolean> {
    const result =
      replacement === undefined
        ? this.#stmt('DELETE FROM meta WHERE name = ? AND value = ?').run(name, expected)
        : this.#stmt('UPDATE meta SET value = ? WHERE name = ? AND value = ?').run(replacement, name, expected);
    return result.changes === 1;
  }

  async listRootSealed(kind: RootSealedKind, after: string | undefined, limit: number): Promise<RootSealedRecord[]> {
    return this.#rootSealed.listRootSealed(kind, after, limit);
  }

  async replaceRootSealed(record: RootSealedRecord, replacement: Buffer): Promise<boolean> {
    return this.#rootSealed.replaceRootSealed(record, replacement);
  }

  async insertAccessKey(record: AccessKeyRecord): Promise<boolean> {
    return this.#iam.insertAccessKey(record);
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.#cache.get(`access-key\0${accessKeyId}`, () => this.#iam.getAccessKey(accessKeyId));
  }

  async deleteExpiredAccessKeys(now: Date): Promise<number> {
    return this.#iam.deleteExpiredAccessKeys(now);
  }

  async createKey(key: KeyRecord, backing: BackingKeyRecord | undefined, tags: Tag[]): Promise<void> {
    this.#keys.createKey(key, backing, tags);
  }

  async getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.#keys.getKey(accountId, region, keyId);
  }

  async listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Promise<Page<KeyRecord>> {
    return this.#keys.listKeys(accountId, region, page);
  }

  async updateKey(
    accountId: string,
    region: string,
    keyId: string,
    patch: KeyPatch,
    whenStates?: readonly KeyState[],
  ): Promise<KeyRecord | undefined> {
    return this.#keys.updateKey(accountId, region, keyId, patch, whenStates);
  }

  async rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyOnDemand(backing, maxOnDemandRotations, replicaBackings);
  }

  async rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyOnSchedule(backing, dueDate, nextRotationDate, replicaBackings);
  }

  async rotateKeyForUsage(backing: BackingKeyRecord, fromBackingKeyId: string, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean> {
    return this.#keys.rotateKeyForUsage(backing, fromBackingKeyId, replicaBackings);
  }

  async reserveEncryptions(backingKeyId: string, count: number): Promise<number> {
    return this.#keys.reserveEncryptions(backingKeyId, count);
  }

  async importKeyMaterial(backing: BackingKeyRecord, material: ImportedMaterial, whenStates: readonly KeyState[]): Promise<KeyRecord | undefined> {
    return this.#keys.importKeyMaterial(backing, material, whenStates);
  }

  async deleteImportedKeyMaterial(keyId: string, condition: { whenStates?: readonly KeyState[]; expiredBy?: Date }): Promise<KeyRecord | undefined> {
    return this.#keys.deleteImportedKeyMaterial(keyId, condition);
  }

  async listKeysWithExpiredMaterial(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysWithExpiredMaterial(now, limit);
  }

  async getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined> {
    return this.#keys.getBackingKey(keyId, backingKeyId);
  }

  async listBackingKeys(keyId: string): Promise<BackingKeyRecord[]> {
    return this.#keys.listBackingKeys(keyId);
  }

  async listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysDueForDeletion(now, limit);
  }

  async listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#keys.listKeysDueForRotation(now, limit);
  }

  async countKeysByState(): Promise<Partial<Record<KeyState, number>>> {
    return this.#keys.countKeysByState();
  }

  async destroyKey(keyId: string, now: Date): Promise<boolean> {
    return this.#keys.destroyKey(keyId, now);
  }

  async putKeyTags(keyId: string, tags: Tag[], maxTags: number): Promise<boolean> {
    return this.#keys.putKeyTags(keyId, tags, maxTags);
  }

  async removeKeyTags(keyId: string, tagKeys: string[]): Promise<void> {
    this.#keys.removeKeyTags(keyId, tagKeys);
  }

  async listKeyTags(keyId: string): Promise<Tag[]> {
    return this.#keys.listKeyTags(keyId);
  }

  async createAlias(alias: AliasRecord): Promise<boolean> {
    return this.#keys.createAlias(alias);
  }

  async updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): Promise<boolean> {
    return this.#keys.updateAlias(accountId, region, aliasName, targetKeyId, now);
  }

  async deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.#keys.deleteAlias(accountId, region, aliasName);
  }

  async getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    return this.#keys.getAlias(accountId, region, aliasName);
  }

  async listAliases(
    accountId: string,
    region: string,
    page: { limit: number; marker?: string; keyId?: string },
  ): Promise<Page<AliasRecord>> {
    return this.#keys.listAliases(accountId, region, page);
  }

  async createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): Promise<string> {
    return this.#keys.createManagedKey(key, backing, aliasName);
  }

  async getKeyById(keyId: string, region?: string): Promise<KeyRecord | undefined> {
    return this.#cache.get(`key\0${keyId}\0${region ?? ''}`, () => this.#keys.getKeyById(keyId, region));
  }

  async listMultiRegionKeys(multiRegionKeyId: string): Promise<KeyRecord[]> {
    return this.#keys.listMultiRegionKeys(multiRegionKeyId);
  }

  async replicateKey(replica: KeyRecord, backings: readonly BackingKeyRecord[], tags: Tag[]): Promise<'created' | 'exists' | 'changed'> {
    return this.#keys.replicateKey(replica, backings, tags);
  }

  async updatePrimaryRegion(multiRegionKeyId: string, fromRegion: string, toRegion: string): Promise<boolean> {
    return this.#keys.updatePrimaryRegion(multiRegionKeyId, fromRegion, toRegion);
  }

  async scheduleMultiRegionKeyDeletion(accountId: string, region: string, keyId: string, pendingWindowDays: number, now: Date): Promise<KeyRecord | undefined> {
    return this.#keys.scheduleMultiRegionKeyDeletion(accountId, region, keyId, pendingWindowDays, now);
  }

  async createGrant(grant: GrantRecord) {
    return this.#grants.createGrant(grant);
  }

  async getGrant(keyId: string, grantId: string) {
    return this.#grants.getGrant(keyId, grantId);
  }

  async listGrants(keyId: string, page: Parameters<SqliteGrantTables['listGrants']>[1]) {
    return this.#grants.listGrants(keyId, page);
  }

  async listRetirableGrants(retiringPrincipal: string, page: { limit: number; marker?: string }) {
    return this.#grants.listRetirableGrants(retiringPrincipal, page);
  }

  async listGrantsForGrantee(keyId: string, granteePrincipals: readonly string[]) {
    return this.#grants.listGrantsForGrantee(keyId, granteePrincipals);
  }

  async deleteGrant(keyId: string, grantId: string) {
    return this.#grants.deleteGrant(keyId, grantId);
  }

  async createSecret(secret: SecretRecord, tags: Tag[], firstVersion?: Omit<SecretVersionRecord, 'stages'>) {
    return this.#writingSecrets([secret.arn], () => this.#secrets.createSecret(secret, tags, firstVersion));
  }

  async getSecretByArn(arn: string) {
    return this.#cache.get(`secret-arn\0${arn}`, () => this.#secrets.getSecretByArn(arn), secretScope);
  }

  async getSecretByName(accountId: string, region: string, name: string) {
    return this.#cache.get(`secret-name\0${accountId}\0${region}\0${name}`, () => this.#secrets.getSecretByName(accountId, region, name), secretScope);
  }

  async listSecretPage(accountId: string, region: string, page: Parameters<SqliteSecretTables['listSecretPage']>[2]) {
    return this.#secrets.listSecretPage(accountId, region, page);
  }

  async listSecrets(accountId: string, region: string) {
    return this.#secrets.listSecrets(accountId, region);
  }

  async listVersionStages(secretArns: string[]) {
    return this.#secrets.listVersionStages(secretArns);
  }

  async markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date) {
    return this.#writingSecrets([arn], () => this.#secrets.markSecretDeleted(arn, deletedDate, scheduledDeletionDate));
  }

  async setSecretResourcePolicy(arn: string, policy: string | undefined) {
    return this.#writingSecrets([arn], () => this.#secrets.setSecretResourcePolicy(arn, policy));
  }

  async restoreSecret(arn: string) {
    return this.#writingSecrets([arn], () => this.#secrets.restoreSecret(arn));
  }

  async destroySecret(arn: string) {
    return this.#writingSecrets([arn], () => this.#secrets.destroySecret(arn));
  }

  async listSecretsDueForDeletion(now: Date, limit: number) {
    return this.#secrets.listSecretsDueForDeletion(now, limit);
  }

  async recordSecretAccesses(accesses: readonly SecretAccessRecord[]) {
    this.#writingSecrets(
      accesses.map((access) => access.arn),
      () => this.#secrets.recordSecretAccesses(accesses),
    );
  }

  async putSecretVersion(version: Omit<SecretVersionRecord, 'stages'>, planner: LabelPlanner, lastChangedDate: Date) {
    return this.#groupCommit.run(() => this.#writingSecrets([version.secretArn], () => this.#secrets.putSecretVersionInTransaction(version, planner, lastChangedDate)));
  }

  async updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date) {
    this.#writingSecrets([secretArn], () => this.#secrets.updateSecretLabels(secretArn, planner, lastChangedDate));
  }

  async rewrapSecretVersions(secretArn: string, dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>, patch: SecretPatch) {
    return this.#writingSecrets([secretArn], () => this.#secrets.rewrapSecretVersions(secretArn, dataKeys, patch));
  }

  async getSecretVersion(secretArn: string, versionId: string) {
    return this.#cache.get(`version\0${secretArn}\0${versionId}`, () => this.#secrets.getSecretVersion(secretArn, versionId), versionScope);
  }

  async getSecretVersionByStage(secretArn: string, stage: string) {
    return this.#cache.get(`stage\0${secretArn}\0${stage}`, () => this.#secrets.getSecretVersionByStage(secretArn, stage), versionScope);
  }

  async listSecretVersions(secretArn: string) {
    return this.#secrets.listSecretVersions(secretArn);
  }

  async putSecretTags(arn: string, tags: Tag[]) {
    this.#writingSecrets([arn], () => this.#secrets.putSecretTags(arn, tags));
  }

  async removeSecretTags(arn: string, tagKeys: string[]) {
    this.#writingSecrets([arn], () => this.#secrets.removeSecretTags(arn, tagKeys));
  }

  async listSecretTags(arn: string) {
    return this.#secrets.listSecretTags(arn);
  }

  async addSecretReplicas(primaryArn: string, replicas: Parameters<SqliteSecretTables['addSecretReplicas']>[1]) {
    return this.#writingSecrets([primaryArn], () => this.#secrets.addSecretReplicas(primaryArn, replicas));
  }

  async listSecretReplicas(primaryArns: string[]) {
    return this.#secrets.listSecretReplicas(primaryArns);
  }

  async listSecretReplicasToSync(limit: number) {
    return this.#secrets.listSecretReplicasToSync(limit);
  }

  async beginReplicaSync(primaryArn: string, region: string) {
    return this.#writingSecrets([primaryArn], () => this.#secrets.beginReplicaSync(primaryArn, region));
  }

  async applyReplicaSync(...args: Parameters<SqliteSecretTables['applyReplicaSync']>) {
    return this.#secrets.applyReplicaSync(...args);
  }

  async failReplicaSync(primaryArn: string, region: string, generation: number, message: string) {
    this.#writingSecrets([primaryArn], () => this.#secrets.failReplicaSync(primaryArn, region, generation, message));
  }

  async setReplicaKmsKey(primaryArn: string, region: string, kmsKeyId: string | undefined) {
    return this.#writingSecrets([primaryArn], () => this.#secrets.setReplicaKmsKey(primaryArn, region, kmsKeyId));
  }

  async removeSecretReplicas(primaryArn: string, regions: string[]) {
    this.#secrets.removeSecretReplicas(primaryArn, regions);
  }

  async promoteReplicaSecret(replicaArn: string, primaryArn: string) {
    return this.#writingSecrets([replicaArn, primaryArn], () => this.#secrets.promoteReplicaSecret(replicaArn, primaryArn));
  }

  async setSecretRotation(arn: string, rotation: SecretRotation) {
    return this.#writingSecrets([arn], () => this.#rotation.setSecretRotation(arn, rotation));
  }

  async listSecretsDueForRotation(now: Date, limit: number) {
    return this.#rotation.listSecretsDueForRotation(now, limit);
  }

  async rotationLag(now: Date) {
    return this.#rotation.rotationLag(now);
  }

  async startRotationRun(run: RotationRunRecord) {
    return this.#rotation.startRotationRun(run);
  }

  async getOpenRotationRun(secretArn: string) {
    return this.#rotation.getOpenRotationRun(secretArn);
  }

  async claimRotationRun(now: Date, leaseOwner: string, leaseMs: number) {
    return this.#rotation.claimRotationRun(now, leaseOwner, leaseMs);
  }

  async renewRotationLease(secretArn: string, token: string, lease: RotationLease, expiresAt: Date) {
    return this.#rotation.renewRotationLease(secretArn, token, lease, expiresAt);
  }

  async recordRotationProgress(secretArn: string, token: string, lease: RotationLease, step: RotationStep, updatedAt: Date) {
    return this.#rotation.recordRotationProgress(secretArn, token, lease, step, updatedAt);
  }

  async updateRotationRun(secretArn: string, token: string, lease: RotationLease, patch: RotationRunPatch) {
    return this.#rotation.updateRotationRun(secretArn, token, lease, patch);
  }

  async completeRotationRun(secretArn: string, token: string, lease: RotationLease, finishedAt: Date, rotation: SecretRotation) {
    return this.#rotation.completeRotationRun(secretArn, token, lease, finishedAt, rotation);
  }

  async retryRotationRun(secretArn: string, token: string, now: Date) {
    this.#rotation.retryRotationRun(secretArn, token, now);
  }

  async cancelRotationRun(secretArn: string, token: string, now: Date) {
    this.#rotation.cancelRotationRun(secretArn, token, now);
  }

  async appendAuditEvent(draft: AuditEventDraft) {
    return this.#audit.appendAuditEvent(draft);
  }

  async appendAuditEvents(drafts: AuditEventDraft[]) {
    return this.#audit.appendAuditEvents(drafts);
  }

  async probeAuditAppend() {
    await this.#audit.probeAuditAppend();
  }

  async pruneAuditEvents(throughSequence: number) {
    return this.#audit.pruneAuditEvents(throughSequence);
  }

  async listAuditEvents(afterSequence: number, limit: number) {
    return this.#audit.listAuditEvents(afterSequence, limit);
  }

  async lookupAuditEvents(lookup: AuditLookup) {
    return this.#audit.lookupAuditEvents(lookup);
  }

  async lastSuccessfulAuditEvent(query: { eventSource: string; eventNames: readonly string[]; resourceName: string }) {
    return this.#audit.lastSuccessfulAuditEvent(query);
  }
  async createAccount(accountId: string, createdAt: Date): Promise<boolean> {
    return this.#iam.createAccount(accountId, createdAt);
  }

  async createIamUser(user: IamUserRecord): Promise<boolean> {
    return this.#iam.createIamUser(user);
  }

  async getIamUser(accountId: string, userName: string): Promise<IamUserRecord | undefined> {
    return this.#iam.getIamUser(accountId, userName);
  }

  async listIamUsers(accountId: string, pathPrefix: string): Promise<IamUserRecord[]> {
    return this.#iam.listIamUsers(accountId, pathPrefix);
  }

  async deleteIamUser(accountId: string, userName: string): Promise<IamDeleteOutcome> {
    return this.#iam.deleteIamUser(accountId, userName);
  }

  async createIamRole(role: IamRoleRecord): Promise<boolean> {
    return this.#iam.createIamRole(role);
  }

  async getIamRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined> {
    return this.#iam.getIamRole(accountId, roleName);
  }

  async listIamRoles(accountId: string, pathPrefix: string): Promise<IamRoleRecord[]> {
    return this.#iam.listIamRoles(accountId, pathPrefix);
  }

  async updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean> {
    return this.#iam.updateAssumeRolePolicy(accountId, roleName, document);
  }

  async updateIamRole(accountId: string, roleName: string, changes: IamRoleChanges): Promise<IamRoleRecord | undefined> {
    return this.#iam.updateIamRole(accountId, roleName, changes);
  }

  async renameIamUser(accountId: string, userName: string, next: IamUserRename): Promise<IamUserRenameOutcome> {
    return this.#iam.renameIamUser(accountId, userName, next);
  }

  async deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome> {
    return this.#iam.deleteIamRole(accountId, roleName);
  }

  async tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number) {
    return this.#iam.tagIamPrincipal(accountId, kind, name, tags, maxTags);
  }

  async untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean> {
    return this.#iam.untagIamPrincipal(accountId, kind, name, tagKeys);
  }

  async putInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policy: InlinePolicyRecord): Promise<boolean> {
    return this.#iam.putInlinePolicy(accountId, kind, name, policy);
  }

  async getInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string) {
    return this.#iam.getInlinePolicy(accountId, kind, name, policyName);
  }

  async listInlinePolicyNames(accountId: string, kind: IamPolicyOwnerKind, name: string): Promise<string[] | undefined> {
    return this.#iam.listInlinePolicyNames(accountId, kind, name);
  }

  async deleteInlinePolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyName: string) {
    return this.#iam.deleteInlinePolicy(accountId, kind, name, policyName);
  }

  async getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined> {
    return this.#cache.get(`iam\0${accountId}\0${kind}\0${name}`, () => this.#iam.getIamIdentity(accountId, kind, name));
  }

  async createIamGroup(group: IamGroupRecord, maxGroups: number): Promise<IamGroupCreateOutcome> {
    return this.#iam.createIamGroup(group, maxGroups);
  }

  async getIamGroup(accountId: string, groupName: string): Promise<IamGroupRecord | undefined> {
    return this.#iam.getIamGroup(accountId, groupName);
  }

  async listIamGroups(accountId: string, pathPrefix: string): Promise<IamGroupRecord[]> {
    return this.#iam.listIamGroups(accountId, pathPrefix);
  }

  async updateIamGroup(accountId: string, groupName: string, change: { newName?: string; newPath?: string }): Promise<IamGroupUpdateOutcome> {
    return this.#iam.updateIamGroup(accountId, groupName, change);
  }

  async deleteIamGroup(accountId: string, groupName: string): Promise<IamGroupDeleteOutcome> {
    return this.#iam.deleteIamGroup(accountId, groupName);
  }

  async addUserToGroup(accountId: string, groupName: string, userName: string, maxGroupsPerUser: number): Promise<IamGroupAddOutcome> {
    return this.#iam.addUserToGroup(accountId, groupName, userName, maxGroupsPerUser);
  }

  async removeUserFromGroup(accountId: string, groupName: string, userName: string): Promise<IamGroupRemoveOutcome> {
    return this.#iam.removeUserFromGroup(accountId, groupName, userName);
  }

  async getIamGroupWithMembers(accountId: string, groupName: string): Promise<{ group: IamGroupRecord; members: IamUserRecord[] } | undefined> {
    return this.#iam.getIamGroupWithMembers(accountId, groupName);
  }

  async listIamGroupsForUser(accountId: string, userName: string): Promise<IamGroupRecord[] | undefined> {
    return this.#iam.listIamGroupsForUser(accountId, userName);
  }

  async insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): Promise<UserAccessKeyOutcome> {
    return this.#iam.insertUserAccessKey(record, maxKeys);
  }

  async listUserAccessKeys(userId: string): Promise<AccessKeyRecord[]> {
    return this.#iam.listUserAccessKeys(userId);
  }

  async updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): Promise<boolean> {
    return this.#iam.updateUserAccessKeyStatus(userId, accessKeyId, status);
  }

  async deleteUserAccessKey(userId: string, accessKeyId: string): Promise<boolean> {
    return this.#iam.deleteUserAccessKey(userId, accessKeyId);
  }

  async insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): Promise<boolean> {
    return this.#iam.insertRootAccessKey(record, maxKeys);
  }

  async deleteRootAccessKey(accountId: string, accessKeyId: string): Promise<boolean> {
    return this.#iam.deleteRootAccessKey(accountId, accessKeyId);
  }

  async listRootAccessKeys(accountId: string): Promise<AccessKeyRecord[]> {
    return this.#iam.listRootAccessKeys(accountId);
  }

  // Managed policies, attachments and permissions boundaries (IamRepository).
  async createManagedPolicy(policy: ManagedPolicyRecord, document: string) {
    return this.#iam.createManagedPolicy(policy, document);
  }

  async getManagedPolicy(arn: string) {
    return this.#iam.getManagedPolicy(arn);
  }

  async listManagedPolicies(accountId: string, pathPrefix: string) {
    return this.#iam.listManagedPolicies(accountId, pathPrefix);
  }

  async deleteManagedPolicy(arn: string) {
    return this.#iam.deleteManagedPolicy(arn);
  }

  async createManagedPolicyVersion(arn: string, document: string, setAsDefault: boolean, createdAt: Date, maxVersions: number) {
    return this.#iam.createManagedPolicyVersion(arn, document, setAsDefault, createdAt, maxVersions);
  }

  async getManagedPolicyVersion(arn: string, versionId: string) {
    return this.#iam.getManagedPolicyVersion(arn, versionId);
  }

  async listManagedPolicyVersions(arn: string) {
    return this.#iam.listManagedPolicyVersions(arn);
  }

  async deleteManagedPolicyVersion(arn: string, versionId: string) {
    return this.#iam.deleteManagedPolicyVersion(arn, versionId);
  }

  async setDefaultManagedPolicyVersion(arn: string, versionId: string, updatedAt: Date) {
    return this.#iam.setDefaultManagedPolicyVersion(arn, versionId, updatedAt);
  }

  async tagManagedPolicy(arn: string, tags: IamTag[], maxTags: number) {
    return this.#iam.tagManagedPolicy(arn, tags, maxTags);
  }

  async untagManagedPolicy(arn: string, tagKeys: string[]) {
    return this.#iam.untagManagedPolicy(arn, tagKeys);
  }

  async getManagedPolicyDocument(arn: string) {
    return this.#iam.getManagedPolicyDocument(arn);
  }

  async attachManagedPolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyArn: string, maxAttached: number, requireStoredPolicy: boolean) {
    return this.#iam.attachManagedPolicy(accountId, kind, name, policyArn, maxAttached, requireStoredPolicy);
  }

  async detachManagedPolicy(accountId: string, kind: IamPolicyOwnerKind, name: string, policyArn: string) {
    return this.#iam.detachManagedPolicy(accountId, kind, name, policyArn);
  }

  async listAttachedManagedPolicies(accountId: string, kind: IamPolicyOwnerKind, name: string) {
    return this.#iam.listAttachedManagedPolicies(accountId, kind, name);
  }

  async listPolicyEntities(accountId: string, policyArn: string) {
    return this.#iam.listPolicyEntities(accountId, policyArn);
  }

  async listManagedPolicyUsage(accountId: string) {
    return this.#iam.listManagedPolicyUsage(accountId);
  }

  async setPermissionsBoundary(accountId: string, kind: IamPrincipalKind, name: string, policyArn: string | undefined) {
    return this.#iam.setPermissionsBoundary(accountId, kind, name, policyArn);
  }

  // IAM OpenID Connect providers (oidc-provider-tables.ts).

  async createOidcProvider(record: OidcProviderRecord, maxPerAccount: number): Promise<OidcProviderCreateOutcome> {
    return this.#oidcProviders.createOidcProvider(record, maxPerAccount);
  }

  async getOidcProvider(accountId: string, arn: string): Promise<OidcProviderRecord | undefined> {
    return this.#oidcProviders.getOidcProvider(accountId, arn);
  }

  async listOidcProviders(accountId: string): Promise<OidcProviderRecord[]> {
    return this.#oidcProviders.listOidcProviders(accountId);
  }

  async deleteOidcProvider(accountId: string, arn: string): Promise<boolean> {
    return this.#oidcProviders.deleteOidcProvider(accountId, arn);
  }

  async addOidcProviderClientId(accountId: string, arn: string, clientId: string, maxClientIds: number): Promise<OidcProviderUpdateOutcome> {
    return this.#oidcProviders.addOidcProviderClientId(accountId, arn, clientId, maxClientIds);
  }

  async removeOidcProviderClientId(accountId: string, arn: string, clientId: string): Promise<boolean> {
    return this.#oidcProviders.removeOidcProviderClientId(accountId, arn, clientId);
  }

  async setOidcProviderThumbprints(accountId: string, arn: string, thumbprints: string[]): Promise<boolean> {
    return this.#oidcProviders.setOidcProviderThumbprints(accountId, arn, thumbprints);
  }

  async tagOidcProvider(accountId: string, arn: string, tags: IamTag[], maxTags: number): Promise<OidcProviderUpdateOutcome> {
    return this.#oidcProviders.tagOidcProvider(accountId, arn, tags, maxTags);
  }

  async untagOidcProvider(accountId: string, arn: string, tagKeys: string[]): Promise<boolean> {
    return this.#oidcProviders.untagOidcProvider(accountId, arn, tagKeys);
  }

  async setOidcProviderJwks(accountId: string, arn: string, jwks: string | undefined): Promise<boolean> {
    return this.#oidcProviders.setOidcProviderJwks(accountId, arn, jwks);
  }


  async createFunction(record: FunctionRecord) {
    return this.#functions.createFunction(record);
  }

  async getFunction(accountId: string, region: string, name: string) {
    return this.#functions.getFunction(accountId, region, name);
  }

  async listFunctions(accountId: string, region: string) {
    return this.#functions.listFunctions(accountId, region);
  }

  async updateFunction(accountId: string, region: string, name: string, patch: Parameters<SqliteFunctionTables['updateFunction']>[3]) {
    return this.#functions.updateFunction(accountId, region, name, patch);
  }

  async deleteFunction(accountId: string, region: string, name: string) {
    return this.#functions.deleteFunction(accountId, region, name);
  }

  async listFunctionsWithClearEnvironment() {
    return this.#functions.listFunctionsWithClearEnvironment();
  }

  // SSM parameters (parameter-tables.ts).

  async putParameter(...args: Parameters<ParametersRepository['putParameter']>) {
    return this.#parameters.putParameter(...args);
  }

  /** GetParameter's one read, kept in the read cache between writes as a secret's are. */
  async getParameter(...[accountId, region, name, selector]: Parameters<ParametersRepository['getParameter']>) {
    const key = `parameter\0${accountId}\0${region}\0${name}\0${selector?.version ?? ''}\0${selector?.label ?? ''}`;
    return this.#cache.get(key, () => this.#parameters.getParameter(accountId, region, name, selector));
  }

  async listParameterVersions(...args: Parameters<ParametersRepository['listParameterVersions']>) {
    return this.#parameters.listParameterVersions(...args);
  }

  async listParameters(...args: Parameters<ParametersRepository['listParameters']>) {
    return this.#parameters.listParameters(...args);
  }

  async deleteParameter(...args: Parameters<ParametersRepository['deleteParameter']>) {
    return this.#parameters.deleteParameter(...args);
  }

  async deleteExpiredParameters(...args: Parameters<ParametersRepository['deleteExpiredParameters']>) {
    return this.#parameters.deleteExpiredParameters(...args);
  }

  async labelParameterVersion(...args: Parameters<ParametersRepository['labelParameterVersion']>) {
    return this.#parameters.labelParameterVersion(...args);
  }

  async unlabelParameterVersion(...args: Parameters<ParametersRepository['unlabelParameterVersion']>) {
    return this.#parameters.unlabelParameterVersion(...args);
  }

  async getParameterTags(...args: Parameters<ParametersRepository['getParameterTags']>) {
    return this.#parameters.getParameterTags(...args);
  }

  async tagParameter(...args: Parameters<ParametersRepository['tagParameter']>) {
    return this.#parameters.tagParameter(...args);
  }

  async untagParameter(...args: Parameters<ParametersRepository['untagParameter']>) {
    return this.#parameters.untagParameter(...args);
  }

  /** Statements are prepared once and reused: preparing is most of the cost of a small query. */
  #stmt(sql: string): Statement {
    let prepared = this.#statements.get(sql);
    if (!prepared) {
      prepared = { statement: this.#db.prepare(sql), writes: !isPlainRead(sql) };
      this.#statements.set(sql, prepared);
    }
    if (prepared.writes) {
      if (this.#writeScope) this.#cache.invalidateScope(this.#writeScope);
      else this.#cache.invalidate();
    }
    return prepared.statement;
  }

  /**
   * Runs a method whose writes change only these secrets' rows (or rows nothing reads through the cache), so that
   * its statements empty only their entries (read-cache-scope.ts). Every other write empties the whole cache.
   */
  #writingSecrets<T>(secretArns: readonly string[], write: () => T): T {
    // Each statement empties what the method fetching it writes: a nested method's scope holds for its own statements.
    const outer = this.#writeScope;
    this.#writeScope = { secretArns };
    try {
      return write();
    } finally {
      this.#writeScope = outer;
    }
  }
}

/**
 * Makes `db.transaction(fn)()`, the form every table uses, run as BEGIN IMMEDIATE; the explicit variants
 * keep their meaning. A nested call still becomes a savepoint inside the outer transaction.
 */
function beginTransactionsImmediately(db: Database.Database): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: any[]) => unknown) => {
    const made = transaction(fn);
    const immediate = (...args: unknown[]) => made.immediate(...args);
    return Object.assign(immediate, { default: made.immediate, deferred: made.deferred, immediate: made.immediate, exclusive: made.exclusive });
  }) as typeof db.transaction;
}
