import type {
  AccessKeyRecord,
  AccessKeyStatus,
  IamDeleteOutcome,
  IamIdentityRecord,
  IamPrincipalKind,
  IamRoleRecord,
  IamTag,
  IamUserRecord,
  InlinePolicyRecord,
  UserAccessKeyOutcome,
  AuditEventDraft,
  AuditEventRecord,
  AuditLookup,
  AliasRecord,
  BackingKeyRecord,
  KeyPatch,
  KeyRecord,
  KeyState,
  LabelPlanner,
  Page,
  SecretPatch,
  SecretAccessRecord,
  SecretRecord,
  SecretVersionRecord,
  FunctionPatch,
  FunctionRecord,
  GrantRecord,
  PagedSecret,
  SecretPageRequest,
  RotationRunPatch,
  RotationRunRecord,
  SecretRotation,
  SecretSort,
  Tag,
  VersionDataKey,
} from './records.js';

/**
 * The persistence contract every backend (SQLite now, PostgreSQL later) satisfies.
 *
 * Invariants:
 * - The store is untrusted for confidentiality: it only ever sees sealed key material.
 * - Every method is atomic on its own; there is no transaction handle. Callers do all crypto first.
 * - Uniqueness comes from constraints: an insert that collides returns false, it never throws a driver error.
 * - Lookups return undefined when absent. Account and region scope every KMS lookup.
 * - Concurrency control lives here (conditional updates), never in process memory.
 */
export interface Store {
  /** Runs pending schema migrations. Safe to call on every start and from several processes. */
  migrate(): void | Promise<void>;
  close(): void | Promise<void>;

  /** Reads a deployment-wide value; works on an unmigrated database (returns undefined). */
  getMeta(name: string): Promise<Buffer | undefined>;
  /** Stores a value unless one exists; returns the value now stored. */
  putMetaIfAbsent(name: string, value: Buffer): Promise<Buffer>;

  insertAccessKey(record: AccessKeyRecord): Promise<boolean>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;

  /** Creates a key with its first backing key and tags, all or nothing. */
  createKey(key: KeyRecord, backing: BackingKeyRecord, tags: Tag[]): Promise<void>;
  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined>;
  listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Promise<Page<KeyRecord>>;
  /**
   * Applies the patch only while the key is in one of `whenStates` (all states when omitted);
   * returns the updated key, or undefined when the key is absent or in another state.
   */
  updateKey(
    accountId: string,
    region: string,
    keyId: string,
    patch: KeyPatch,
    whenStates?: readonly KeyState[],
  ): Promise<KeyRecord | undefined>;
  /**
   * On-demand rotation: adds a backing key and makes it current, unless the key already has
   * `maxOnDemandRotations` on-demand rotations (returns false). The automatic schedule is left alone.
   */
  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number): Promise<boolean>;
  /**
   * Scheduled rotation: adds a backing key, makes it current and moves the schedule to `nextRotationDate`,
   * only while the key is Enabled with rotation on and still due at `dueDate` (returns false otherwise), so
   * several nodes running the schedule rotate a key once.
   */
  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date): Promise<boolean>;
  getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined>;
  listBackingKeys(keyId: string): Promise<BackingKeyRecord[]>;
  /** Keys whose deletion window has passed, across all accounts, for the sweeper. */
  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]>;
  /** Keys with automatic rotation whose next rotation date has come. */
  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]>;
  /** Removes a key with its backing keys, aliases and tags, if it is still PendingDeletion and due. */
  destroyKey(keyId: string, now: Date): Promise<boolean>;

  /** Adds or updates tags unless the key would then have more than `maxTags` (returns false, changes nothing). */
  putKeyTags(keyId: string, tags: Tag[], maxTags: number): Promise<boolean>;
  removeKeyTags(keyId: string, tagKeys: string[]): Promise<void>;
  listKeyTags(keyId: string): Promise<Tag[]>;

  /** Returns false when the alias name is taken in that account and region. */
  createAlias(alias: AliasRecord): Promise<boolean>;
  /** Points an existing alias at another key; returns false when the alias does not exist. */
  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): Promise<boolean>;
  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean>;
  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined>;
  listAliases(
    accountId: string,
    region: string,
    page: { limit: number; marker?: string; keyId?: string },
  ): Promise<Page<AliasRecord>>;

  /**
   * Creates an AWS managed key with its alias unless the alias exists; returns the alias's key id either way,
   * so concurrent first uses agree on one key.
   */
  createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): Promise<string>;

  /**
   * A key by its id alone, in any account and region: Decrypt finds the key a ciphertext names even when it
   * belongs to another account (the caller's rights are checked afterwards, against the key's policy).
   */
  getKeyById(keyId: string): Promise<KeyRecord | undefined>;

  /**
   * Adds a grant. A named grant whose key, name and fingerprint match an existing grant is not added again:
   * the existing grant is returned (CreateGrant's Name idempotency). Fails when the key is gone (foreign key).
   */
  createGrant(grant: GrantRecord): Promise<GrantRecord>;
  getGrant(keyId: string, grantId: string): Promise<GrantRecord | undefined>;
  /** A key's grants, ordered by grant id; optionally only one grant id or one grantee. */
  listGrants(keyId: string, page: { limit: number; marker?: string; grantId?: string; granteePrincipal?: string }): Promise<Page<GrantRecord>>;
  /** Grants in any account whose retiring principal is the given one, ordered by grant id. */
  listRetirableGrants(retiringPrincipal: string, page: { limit: number; marker?: string }): Promise<Page<GrantRecord>>;
  /** The key's grants whose grantee is one of the given principal ARNs: what authorization consults. */
  listGrantsForGrantee(keyId: string, granteePrincipals: readonly string[]): Promise<GrantRecord[]>;
  /** Removes a grant (RetireGrant, RevokeGrant); false when it was not there. */
  deleteGrant(keyId: string, grantId: string): Promise<boolean>;

  /**
   * Creates a secret with its tags and, when given, its first version labelled AWSCURRENT, all or nothing.
   * When the name is taken in that account and region (also by a secret pending deletion), nothing is
   * written and the existing secret is returned.
   */
  createSecret(
    secret: SecretRecord,
    tags: Tag[],
    firstVersion?: Omit<SecretVersionRecord, 'stages'>,
  ): Promise<{ created: true } | { created: false; existing: SecretRecord }>;
  getSecretByArn(arn: string): Promise<SecretRecord | undefined>;
  getSecretByName(accountId: string, region: string, name: string): Promise<SecretRecord | undefined>;
  /**
   * One page of an account and region's secrets, sorted in the database, with tags and version labels:
   * what an unfiltered ListSecrets needs, without reading the other secrets. The page starts after the cursor
   * `after` (of the same sort order) or, for a token from before cursors, at `offset`. Secrets whose recovery
   * window ended by `now` are left out; those marked deleted too unless `includeDeleted`.
   */
  listSecretPage(accountId: string, region: string, page: SecretPageRequest): Promise<PagedSecret[]>;
  /** Every secret of an account and region with its tags (no labels), in creation order: for filtering. */
  listSecrets(accountId: string, region: string): Promise<Array<SecretRecord & { tags: Tag[] }>>;
  /** The version labels of the given secrets: secret ARN → version id → labels. */
  listVersionStages(secretArns: string[]): Promise<Record<string, Record<string, string[]>>>;
  /** Marks a live secret deleted with its scheduled deletion date; undefined when absent or already deleted. */
  markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date): Promise<SecretRecord | undefined>;
  /** Clears the deletion mark; undefined when the secret is absent. */
  restoreSecret(arn: string): Promise<SecretRecord | undefined>;
  /** Sets the secret's resource policy text, or removes it with undefined; undefined when the secret is absent. */
  setSecretResourcePolicy(arn: string, policy: string | undefined): Promise<SecretRecord | undefined>;
  /** Removes a secret with its versions and tags for good. */
  destroySecret(arn: string): Promise<boolean>;
  listSecretsDueForDeletion(now: Date, limit: number): Promise<SecretRecord[]>;
  /** Sets LastAccessedDate (kept to the day) of each secret and version named, in one transaction. */
  recordSecretAccesses(accesses: readonly SecretAccessRecord[]): Promise<void>;

  /**
   * Adds a version and applies the planner's label moves and prunes in one transaction. When the version id
   * exists already with a value, nothing changes and the existing version is returned (idempotent retries);
   * when it exists as a value-less placeholder, a version with a value fills it in.
   * The planner runs inside the transaction on the labels as they are then; it must be pure and may throw
   * an AwsError to refuse, which rolls everything back.
   */
  putSecretVersion(
    version: Omit<SecretVersionRecord, 'stages'>,
    planner: LabelPlanner,
    lastChangedDate: Date,
  ): Promise<{ inserted: true } | { inserted: false; existing: SecretVersionRecord }>;
  /** Applies the planner's label moves to existing versions in one transaction (same rules as above). */
  updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): Promise<void>;
  /**
   * Applies the patch and adds a newly wrapped data key to each named version, in one transaction: how a
   * change of the secret's KMS key re-encrypts its labelled versions while the old wrapping stays usable.
   */
  rewrapSecretVersions(
    secretArn: string,
    dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>,
    patch: SecretPatch,
  ): Promise<SecretRecord | undefined>;
  getSecretVersion(secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined>;
  getSecretVersionByStage(secretArn: string, stage: string): Promise<SecretVersionRecord | undefined>;
  /** Every version of a secret with its labels, newest first. */
  listSecretVersions(secretArn: string): Promise<SecretVersionRecord[]>;

  putSecretTags(arn: string, tags: Tag[]): Promise<void>;
  removeSecretTags(arn: string, tagKeys: string[]): Promise<void>;
  listSecretTags(arn: string): Promise<Tag[]>;

  /** Replaces a secret's rotation configuration and schedule; undefined when the secret is absent. */
  setSecretRotation(arn: string, rotation: SecretRotation): Promise<SecretRecord | undefined>;
  /** Secrets with rotation on whose window has opened and no unfinished rotation, for the scheduler. */
  listSecretsDueForRotation(now: Date, limit: number): Promise<SecretRecord[]>;
  /**
   * Records a new rotation unless the secret has an unfinished one (running or failed), which is returned
   * instead: one rotation at a time per secret, enforced by a constraint.
   */
  startRotationRun(run: RotationRunRecord): Promise<{ started: true } | { started: false; existing: RotationRunRecord }>;
  /** The secret's unfinished rotation, if any. */
  getOpenRotationRun(secretArn: string): Promise<RotationRunRecord | undefined>;
  /**
   * Takes the lease on one running rotation whose next attempt is due and whose lease is free or expired,
   * so that of several nodes exactly one drives it.
   */
  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): Promise<RotationRunRecord | undefined>;
  /** Updates a run held under `leaseOwner` and releases the lease; false when the lease was lost. */
  updateRotationRun(secretArn: string, token: string, leaseOwner: string, patch: RotationRunPatch): Promise<boolean>;
  /** Marks a run succeeded and moves the secret's schedule, in one transaction. */
  completeRotationRun(secretArn: string, token: string, finishedAt: Date, rotation: SecretRotation): Promise<void>;
  /** Makes a failed or waiting run due again now (a new RotateSecret retries the unfinished rotation). */
  retryRotationRun(secretArn: string, token: string, now: Date): Promise<void>;
  /** Ends an unfinished run without completing it (CancelRotateSecret); its AWSPENDING version stays. */
  cancelRotationRun(secretArn: string, token: string, now: Date): Promise<void>;

  /** Returns false when the name is taken in that account and region. */
  createFunction(record: FunctionRecord): Promise<boolean>;
  getFunction(accountId: string, region: string, name: string): Promise<FunctionRecord | undefined>;
  listFunctions(accountId: string, region: string): Promise<FunctionRecord[]>;
  /** Replaces code and the fields that come with it; undefined when the function is absent. */
  updateFunction(
    accountId: string,
    region: string,
    name: string,
    patch: FunctionPatch,
  ): Promise<FunctionRecord | undefined>;
  deleteFunction(accountId: string, region: string, name: string): Promise<boolean>;
  /** Functions of every account whose variables or URL are still in clear (rows from before sealing). */
  listFunctionsWithClearEnvironment(): Promise<FunctionRecord[]>;

  /** Removes access keys whose expiry has passed. */
  deleteExpiredAccessKeys(now: Date): Promise<number>;

  /**
   * Appends an audit event at the end of the hash chain: reads the last event, seals the draft against it
   * (prevHash = its hash, hash = SHA-256(prevHash ‖ body), see audit-hash.ts) and inserts it as the next
   * sequence number, in one transaction. Throws when the event cannot be written.
   */
  appendAuditEvent(draft: AuditEventDraft): Promise<AuditEventRecord>;
  /**
   * Appends several events in order, in ONE transaction (group commit: one durable write for a batch of
   * requests); all or none. Returns the stored records in the same order.
   */
  appendAuditEvents(drafts: AuditEventDraft[]): Promise<AuditEventRecord[]>;
  /**
   * Writes a throwaway event and rolls it back: throws exactly when an append would fail now. Fail-closed
   * auditing asks this before a mutation runs.
   */
  probeAuditAppend(): Promise<void>;
  /** Events in chain order with sequence > `afterSequence`, at most `limit`: for verification. */
  listAuditEvents(afterSequence: number, limit: number): Promise<AuditEventRecord[]>;
  /** Events matching the lookup, newest (highest sequence) first. */
  lookupAuditEvents(lookup: AuditLookup): Promise<AuditEventRecord[]>;

  /** Records a new account; false when the id is taken. */
  createAccount(accountId: string, createdAt: Date): Promise<boolean>;

  /** IAM users and roles. Names are unique per account (case-insensitively, as in IAM); false when taken. */
  createIamUser(user: IamUserRecord): Promise<boolean>;
  getIamUser(accountId: string, userName: string): Promise<IamUserRecord | undefined>;
  listIamUsers(accountId: string, pathPrefix: string): Promise<IamUserRecord[]>;
  /** Deletes a user that has no access keys and no inline policies (IAM's DeleteConflict otherwise). */
  deleteIamUser(accountId: string, userName: string): Promise<IamDeleteOutcome>;
  createIamRole(role: IamRoleRecord): Promise<boolean>;
  getIamRole(accountId: string, roleName: string): Promise<IamRoleRecord | undefined>;
  listIamRoles(accountId: string, pathPrefix: string): Promise<IamRoleRecord[]>;
  /** Replaces a role's trust policy; false when the role does not exist. */
  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): Promise<boolean>;
  /** Deletes a role that has no inline policies. */
  deleteIamRole(accountId: string, roleName: string): Promise<IamDeleteOutcome>;
  /** Merges tags into a user's or role's tags unless it would then have more than `maxTags`; undefined when absent. */
  tagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tags: IamTag[], maxTags: number): Promise<'tagged' | 'absent' | 'limit-exceeded'>;
  untagIamPrincipal(accountId: string, kind: IamPrincipalKind, name: string, tagKeys: string[]): Promise<boolean>;

  /** Adds or replaces an inline policy; false when the user or role does not exist. */
  putInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policy: InlinePolicyRecord): Promise<boolean>;
  /** undefined when the principal is absent; the policy member is undefined when only the policy is. */
  getInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policyName: string): Promise<{ policy?: InlinePolicyRecord } | undefined>;
  /** Policy names in order; undefined when the principal does not exist. */
  listInlinePolicyNames(accountId: string, kind: IamPrincipalKind, name: string): Promise<string[] | undefined>;
  deleteInlinePolicy(accountId: string, kind: IamPrincipalKind, name: string, policyName: string): Promise<'deleted' | 'no-principal' | 'no-policy'>;
  /** A user's or role's ARN, inline policy texts and tags: the identity side of authorization. */
  getIamIdentity(accountId: string, kind: IamPrincipalKind, name: string): Promise<IamIdentityRecord | undefined>;

  /** Inserts a key of an existing user unless it has `maxKeys` already. */
  insertUserAccessKey(record: AccessKeyRecord & { userId: string }, maxKeys: number): Promise<UserAccessKeyOutcome>;
  /** A user's keys, oldest first. */
  listUserAccessKeys(userId: string): Promise<AccessKeyRecord[]>;
  /** Changes the status of a key of that user; false when the user has no such key. */
  updateUserAccessKeyStatus(userId: string, accessKeyId: string, status: AccessKeyStatus): Promise<boolean>;
  deleteUserAccessKey(userId: string, accessKeyId: string): Promise<boolean>;
  /** Inserts a long-term key of the account root unless the root has `maxKeys` already (false then). */
  insertRootAccessKey(record: AccessKeyRecord, maxKeys: number): Promise<boolean>;
  /** Deletes a root key of the account (a key with no user and no expiry). */
  deleteRootAccessKey(accountId: string, accessKeyId: string): Promise<boolean>;
  listRootAccessKeys(accountId: string): Promise<AccessKeyRecord[]>;
}
