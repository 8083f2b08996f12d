import type { Page, Tag } from '../records/common.js';
import type { AliasRecord, BackingKeyRecord, GrantRecord, ImportedMaterial, KeyPatch, KeyRecord, KeyState } from '../records/kms.js';

/**
 * KMS keys with their backing keys and tags, aliases, AWS managed keys and grants: what kms owns.
 * Account and region scope every lookup but `getKeyById` and the sweeper's lists.
 * The invariants of every repository are Store's (../store.ts).
 *
 * Key ids. Methods that take an account and region (getKey, updateKey, aliases) take the public key id. Methods
 * that take a key id alone (backing keys, tags, grants, rotation, destroyKey) take the key's store id,
 * `keyStoreId(key)` (records/kms.ts): the public id for a single-Region key, `<mrk id>/<region>` for a member of a
 * multi-Region key, which has the same public id in every Region. Records carry public ids, except
 * BackingKeyRecord.keyId and GrantRecord.keyId, which are store ids.
 */
export interface KmsRepository {
  /** Creates a key with its first backing key (none for a key awaiting imported material) and tags, all or nothing. */
  createKey(key: KeyRecord, backing: BackingKeyRecord | undefined, tags: Tag[]): Promise<void>;
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
  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean>;
  /**
   * Scheduled rotation: adds a backing key, makes it current and moves the schedule to `nextRotationDate`,
   * only while the key is Enabled with rotation on and still due at `dueDate` (returns false otherwise), so
   * several nodes running the schedule rotate a key once.
   *
   * Both rotations of a multi-Region primary key add, in the same transaction, `replicaBackings` (the same backing
   * key id sealed for each replica) to its replicas and make it current there too; when the key's replicas are no
   * longer exactly those, nothing is written and MultiRegionKeyChangedError is thrown.
   */
  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean>;
  /**
   * Rotation when a backing key's encryption budget runs out: adds `backing` (AUTOMATIC) and makes it current, with
   * `replicaBackings` as the other rotations do, only while the key's current backing key is still
   * `fromBackingKeyId` (returns false otherwise, writing nothing), so racing callers and nodes rotate once. The
   * schedule and the on-demand count are left alone.
   */
  rotateKeyForUsage(backing: BackingKeyRecord, fromBackingKeyId: string, replicaBackings?: readonly BackingKeyRecord[]): Promise<boolean>;
  /**
   * Adds `count` to the encryptions reserved under a backing key id (a new id starts at 0) and returns the new
   * total, atomically, so concurrent reservations from several nodes never overlap or under-count.
   */
  reserveEncryptions(backingKeyId: string, count: number): Promise<number>;
  /**
   * ImportKeyMaterial: adds the backing key (kept if that backing key is already there: a re-import of the same
   * material), makes it current, records the material's id and expiry and makes the key Enabled, all at once,
   * only while the key has Origin EXTERNAL, is in one of `whenStates` and has no other material's id. Returns
   * the updated key, or undefined (nothing changed) when a condition fails.
   */
  importKeyMaterial(backing: BackingKeyRecord, material: ImportedMaterial, whenStates: readonly KeyState[]): Promise<KeyRecord | undefined>;
  /**
   * DeleteImportedKeyMaterial and expiry: removes an EXTERNAL key's backing keys, clears its current backing key,
   * ValidTo and ExpirationModel (the material's id stays) and sets PendingImport (a key PendingDeletion keeps its
   * state). Only while the key has material and is in one of `whenStates` (any when omitted) and, with
   * `expiredBy`, its material's ValidTo is at or before it. Returns the updated key, or undefined.
   */
  deleteImportedKeyMaterial(keyId: string, condition: { whenStates?: readonly KeyState[]; expiredBy?: Date }): Promise<KeyRecord | undefined>;
  /** Keys whose imported material's ValidTo has come, for the sweeper. */
  listKeysWithExpiredMaterial(now: Date, limit: number): Promise<KeyRecord[]>;
  getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined>;
  listBackingKeys(keyId: string): Promise<BackingKeyRecord[]>;
  /** Keys whose deletion window has passed, across all accounts, for the sweeper. */
  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]>;
  /** Keys with automatic rotation whose next rotation date has come. */
  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]>;
  /** How many keys are in each state, over every account and Region (metrics); states without keys are absent. */
  countKeysByState(): Promise<Partial<Record<KeyState, number>>>;
  /**
   * Removes a key with its backing keys, aliases and tags, if it is still PendingDeletion and due. When it was the
   * last replica of a multi-Region primary key in PendingReplicaDeletion, that primary turns PendingDeletion in the
   * same transaction, its window (pending_window_days) starting at `now`.
   */
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
   * belongs to another account (the caller's rights are checked afterwards, against the key's policy). A
   * multi-Region key id names one member per Region: the one in `region` is returned (none without `region`).
   */
  getKeyById(keyId: string, region?: string): Promise<KeyRecord | undefined>;
  /** Every member (primary and replicas) of a multi-Region key, in any state but destroyed, ordered by region. */
  listMultiRegionKeys(multiRegionKeyId: string): Promise<KeyRecord[]>;
  /**
   * Creates a replica of a multi-Region key with its backing keys (store ids of the replica) and tags. 'exists' when
   * a member is already in the replica's region; 'changed' when the primary is no longer the primary in
   * `replica.primaryRegion`, is no longer Enabled or Disabled, or its backing keys are not exactly `backings`' ids
   * (a rotation came between): nothing is written then.
   */
  replicateKey(replica: KeyRecord, backings: readonly BackingKeyRecord[], tags: Tag[]): Promise<'created' | 'exists' | 'changed'>;
  /**
   * Makes the member in `toRegion` the primary of a multi-Region key whose primary is in `fromRegion`: every
   * member's primary region changes, and the automatic rotation settings move from the old primary to the new one.
   * False (nothing changes) when the primary is not in `fromRegion` or no member is in `toRegion`.
   */
  updatePrimaryRegion(multiRegionKeyId: string, fromRegion: string, toRegion: string): Promise<boolean>;
  /**
   * ScheduleKeyDeletion of a multi-Region key member in Enabled, Disabled or PendingImport (imported material): a primary that has replicas turns
   * PendingReplicaDeletion (no deletion date; the window starts when its last replica is destroyed), any other
   * member PendingDeletion until now + the window. Decided in one transaction with the count of replicas.
   * Undefined when the key is absent or in another state.
   */
  scheduleMultiRegionKeyDeletion(accountId: string, region: string, keyId: string, pendingWindowDays: number, now: Date): Promise<KeyRecord | undefined>;
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
}
