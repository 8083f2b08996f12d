import type { AccessKeyRecord, AliasRecord, BackingKeyRecord, KeyPatch, KeyRecord, KeyState, Page, Tag } from './records.js';

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
  /** Adds a backing key and makes it current, with the key's new rotation schedule, atomically. */
  addBackingKey(backing: BackingKeyRecord, nextRotationDate: Date | undefined): Promise<void>;
  getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined>;
  listBackingKeys(keyId: string): Promise<BackingKeyRecord[]>;
  /** Keys whose deletion window has passed, across all accounts, for the sweeper. */
  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]>;
  /** Keys with automatic rotation whose next rotation date has come. */
  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]>;
  /** Removes a key with its backing keys, aliases and tags, if it is still PendingDeletion and due. */
  destroyKey(keyId: string, now: Date): Promise<boolean>;

  putKeyTags(keyId: string, tags: Tag[]): Promise<void>;
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
}
