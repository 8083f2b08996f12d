import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { isMultiRegionKeyId, keyStoreId, publicKeyId, MultiRegionKeyChangedError, type AliasRecord, type BackingKeyRecord, type ImportedMaterial, type KeyPatch, type KeyRecord, type KeyState, type Page, type Tag } from '../records.js';
import { aliasFromRow, backingKeyFromRow, KEY_COLUMNS, keyFromRow, multiRegionColumns } from '../rows/keys.js';
import { BOOLEAN_COLUMNS, patchAssignments } from './sql-values.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/**
 * KMS keys in SQLite: keys, their backing keys (sealed material) and tags, aliases and AWS managed keys
 * (tables kms_keys, kms_backing_keys, kms_key_tags, kms_aliases). Grants are grant-tables.ts. Limits and
 * races are settled inside one transaction or by a conditional update, so several processes agree.
 */
export class SqliteKeyTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  createKey(key: KeyRecord, backing: BackingKeyRecord | undefined, tags: Tag[]): void {
    this.#db.transaction(() => {
      this.#insertKey(key);
      if (backing) this.#insertBackingKey(backing);
      this.#upsertTags(keyStoreId(key), tags);
    })();
  }

  getKey(accountId: string, region: string, keyId: string): KeyRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ? AND account_id = ? AND region = ?').get(keyStoreId({ keyId, region }), accountId, region) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Page<KeyRecord> {
    const rows = this.#stmt(
      'SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
    ).all(accountId, region, page.marker ?? '', page.limit + 1) as Row[];
    return toPage(rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS)), page.limit, keyStoreId);
  }

  updateKey(
    accountId: string,
    region: string,
    keyId: string,
    patch: KeyPatch,
    whenStates?: readonly KeyState[],
  ): KeyRecord | undefined {
    const { assignments, values } = patchAssignments(patch, KEY_COLUMNS);
    const stateFilter = whenStates ? ` AND key_state IN (${whenStates.map(() => '?').join(', ')})` : '';
    const sql = `UPDATE kms_keys SET ${assignments.join(', ') || 'key_id = key_id'}
                 WHERE key_id = ? AND account_id = ? AND region = ?${stateFilter} RETURNING *`;
    const row = this.#stmt(sql).get(...values, keyStoreId({ keyId, region }), accountId, region, ...(whenStates ?? [])) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number, replicaBackings: readonly BackingKeyRecord[] = []): boolean {
    return this.#db.transaction(() => {
      const count = this.#stmt("SELECT count(*) FROM kms_backing_keys WHERE key_id = ? AND rotation_type = 'ON_DEMAND'").pluck().get(backing.keyId) as number;
      if (count >= maxOnDemandRotations) return false;
      this.#assertReplicas(backing.keyId, replicaBackings);
      for (const each of [backing, ...replicaBackings]) {
        this.#insertBackingKey(each);
        this.#stmt('UPDATE kms_keys SET current_backing_key_id = ? WHERE key_id = ?').run(each.backingKeyId, each.keyId);
      }
      return true;
    })();
  }

  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date, replicaBackings: readonly BackingKeyRecord[] = []): boolean {
    return this.#db.transaction(() => {
      const claimed = this.#stmt(
        "UPDATE kms_keys SET current_backing_key_id = ?, next_rotation_date = ? WHERE key_id = ? AND key_state = 'Enabled' AND rotation_enabled = 1 AND next_rotation_date = ?",
      ).run(backing.backingKeyId, nextRotationDate.getTime(), backing.keyId, dueDate.getTime());
      if (claimed.changes === 0) return false;
      this.#addNewBackingKeys(backing, replicaBackings);
      return true;
    })();
  }

  rotateKeyForUsage(backing: BackingKeyRecord, fromBackingKeyId: string, replicaBackings: readonly BackingKeyRecord[] = []): boolean {
    return this.#db.transaction(() => {
      const claimed = this.#stmt('UPDATE kms_keys SET current_backing_key_id = ? WHERE key_id = ? AND current_backing_key_id = ?').run(
        backing.backingKeyId,
        backing.keyId,
        fromBackingKeyId,
      );
      if (claimed.changes === 0) return false;
      this.#addNewBackingKeys(backing, replicaBackings);
      return true;
    })();
  }

  /** After a rotation's claim, inside its transaction: the new backing keys, the replicas' made current (throwing rolls the claim back). */
  #addNewBackingKeys(backing: BackingKeyRecord, replicaBackings: readonly BackingKeyRecord[]): void {
    this.#assertReplicas(backing.keyId, replicaBackings);
    this.#insertBackingKey(backing);
    for (const each of replicaBackings) {
      this.#insertBackingKey(each);
      this.#stmt('UPDATE kms_keys SET current_backing_key_id = ? WHERE key_id = ?').run(each.backingKeyId, each.keyId);
    }
  }

  reserveEncryptions(backingKeyId: string, count: number): number {
    return this.#stmt(
      `INSERT INTO kms_encryption_reservations (backing_key_id, reserved_count) VALUES (?, ?)
       ON CONFLICT (backing_key_id) DO UPDATE SET reserved_count = reserved_count + excluded.reserved_count RETURNING reserved_count`,
    ).pluck().get(backingKeyId, count) as number;
  }

  /** The replicas of the key stored under `storeId` are exactly those `replicaBackings` were sealed for. */
  #assertReplicas(storeId: string, replicaBackings: readonly BackingKeyRecord[]): void {
    const replicas = this.#stmt(
      `SELECT r.key_id FROM kms_keys p JOIN kms_keys r ON r.multi_region_key_id = p.multi_region_key_id AND r.key_id <> p.key_id
       WHERE p.key_id = ? ORDER BY r.key_id`,
    ).pluck().all(storeId) as string[];
    const given = replicaBackings.map((backing) => backing.keyId).sort();
    if (replicas.length !== given.length || replicas.some((id, index) => id !== given[index])) throw new MultiRegionKeyChangedError();
  }

  importKeyMaterial(backing: BackingKeyRecord, material: ImportedMaterial, whenStates: readonly KeyState[]): KeyRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#stmt(
        `UPDATE kms_keys SET current_backing_key_id = ?, key_material_id = ?, expiration_model = ?, valid_to = ?, key_state = 'Enabled'
         WHERE key_id = ? AND origin = 'EXTERNAL' AND (key_material_id IS NULL OR key_material_id = ?)
           AND key_state IN (${whenStates.map(() => '?').join(', ')}) RETURNING *`,
      ).get(
        backing.backingKeyId, material.keyMaterialId, material.expirationModel, material.validTo?.getTime() ?? null,
        backing.keyId, material.keyMaterialId, ...whenStates,
      ) as Row | undefined;
      if (!row) return undefined;
      this.#stmt(
        'INSERT INTO kms_backing_keys (key_id, backing_key_id, sealed_material, created_at, rotation_type) VALUES (?, ?, ?, ?, NULL) ON CONFLICT (key_id, backing_key_id) DO NOTHING',
      ).run(backing.keyId, backing.backingKeyId, backing.sealedMaterial, backing.createdAt.getTime());
      return keyFromRow(row, BOOLEAN_COLUMNS);
    })();
  }

  deleteImportedKeyMaterial(keyId: string, condition: { whenStates?: readonly KeyState[]; expiredBy?: Date }): KeyRecord | undefined {
    const states = condition.whenStates ?? [];
    const stateFilter = condition.whenStates ? ` AND key_state IN (${states.map(() => '?').join(', ')})` : '';
    const expiryFilter = condition.expiredBy ? ' AND valid_to <= ?' : '';
    return this.#db.transaction(() => {
      const row = this.#stmt(
        `UPDATE kms_keys SET current_backing_key_id = '', valid_to = NULL, expiration_model = NULL,
           key_state = CASE WHEN key_state = 'PendingDeletion' THEN key_state ELSE 'PendingImport' END
         WHERE key_id = ? AND origin = 'EXTERNAL' AND current_backing_key_id <> ''${stateFilter}${expiryFilter} RETURNING *`,
      ).get(keyId, ...states, ...(condition.expiredBy ? [condition.expiredBy.getTime()] : [])) as Row | undefined;
      if (!row) return undefined;
      this.#stmt('DELETE FROM kms_backing_keys WHERE key_id = ?').run(keyId);
      return keyFromRow(row, BOOLEAN_COLUMNS);
    })();
  }

  listKeysWithExpiredMaterial(now: Date, limit: number): KeyRecord[] {
    const rows = this.#stmt('SELECT * FROM kms_keys WHERE valid_to <= ? ORDER BY valid_to LIMIT ?').all(now.getTime(), limit) as Row[];
    return rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS));
  }

  getBackingKey(keyId: string, backingKeyId: string): BackingKeyRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_backing_keys WHERE key_id = ? AND backing_key_id = ?').get(keyId, backingKeyId) as Row | undefined;
    return row && backingKeyFromRow(row);
  }

  listBackingKeys(keyId: string): BackingKeyRecord[] {
    const rows = this.#stmt('SELECT * FROM kms_backing_keys WHERE key_id = ? ORDER BY created_at, rowid').all(keyId) as Row[];
    return rows.map(backingKeyFromRow);
  }

  listKeysDueForDeletion(now: Date, limit: number): KeyRecord[] {
    const rows = this.#stmt(
      "SELECT * FROM kms_keys WHERE key_state = 'PendingDeletion' AND deletion_date <= ? ORDER BY deletion_date LIMIT ?",
    ).all(now.getTime(), limit) as Row[];
    return rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS));
  }

  listKeysDueForRotation(now: Date, limit: number): KeyRecord[] {
    const rows = this.#stmt(
      "SELECT * FROM kms_keys WHERE rotation_enabled = 1 AND key_state = 'Enabled' AND next_rotation_date <= ? ORDER BY next_rotation_date LIMIT ?",
    ).all(now.getTime(), limit) as Row[];
    return rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS));
  }

  countKeysByState(): Partial<Record<KeyState, number>> {
    const rows = this.#stmt('SELECT key_state, count(*) AS keys FROM kms_keys GROUP BY key_state').all() as Row[];
    return Object.fromEntries(rows.map((row) => [row.key_state, Number(row.keys)]));
  }

  destroyKey(keyId: string, now: Date): boolean {
    return this.#db.transaction(() => {
      // Foreign keys cascade to backing keys, tags, aliases and grants.
      const removed = this.#stmt(
        "DELETE FROM kms_keys WHERE key_id = ? AND key_state = 'PendingDeletion' AND deletion_date <= ? RETURNING multi_region_key_id",
      ).get(keyId, now.getTime()) as Row | undefined;
      if (!removed) return false;
      if (removed.multi_region_key_id !== null) {
        // The last replica gone: a primary waiting for it (PendingReplicaDeletion) starts its own window now.
        this.#stmt(
          `UPDATE kms_keys SET key_state = 'PendingDeletion', deletion_date = ? + pending_window_days * 86400000
           WHERE multi_region_key_id = ? AND key_state = 'PendingReplicaDeletion' AND region = primary_region
             AND NOT EXISTS (SELECT 1 FROM kms_keys r WHERE r.multi_region_key_id = ? AND r.region <> r.primary_region)`,
        ).run(now.getTime(), removed.multi_region_key_id, removed.multi_region_key_id);
      }
      return true;
    })();
  }

  putKeyTags(keyId: string, tags: Tag[], maxTags: number): boolean {
    try {
      this.#db.transaction(() => {
        this.#upsertTags(keyId, tags);
        const count = this.#stmt('SELECT count(*) FROM kms_key_tags WHERE key_id = ?').pluck().get(keyId) as number;
        // Throwing inside the transaction rolls the upsert back.
        if (count > maxTags) throw new LimitReached();
      })();
      return true;
    } catch (error) {
      if (error instanceof LimitReached) return false;
      throw error;
    }
  }

  removeKeyTags(keyId: string, tagKeys: string[]): void {
    const remove = this.#stmt('DELETE FROM kms_key_tags WHERE key_id = ? AND tag_key = ?');
    this.#db.transaction(() => {
      for (const tagKey of tagKeys) remove.run(keyId, tagKey);
    })();
  }

  listKeyTags(keyId: string): Tag[] {
    const rows = this.#stmt('SELECT tag_key, tag_value FROM kms_key_tags WHERE key_id = ? ORDER BY tag_key').all(keyId) as Row[];
    return rows.map((row) => ({ TagKey: row.tag_key, TagValue: row.tag_value }));
  }

  createAlias(alias: AliasRecord): boolean {
    const result = this.#stmt(
      `INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, region, alias_name) DO NOTHING`,
    ).run(alias.accountId, alias.region, alias.aliasName, keyStoreId({ keyId: alias.targetKeyId, region: alias.region }), alias.creationDate.getTime(), alias.lastUpdatedDate.getTime());
    return result.changes === 1;
  }

  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): boolean {
    const result = this.#stmt(
      'UPDATE kms_aliases SET target_key_id = ?, last_updated_date = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
    ).run(keyStoreId({ keyId: targetKeyId, region }), now.getTime(), accountId, region, aliasName);
    return result.changes === 1;
  }

  deleteAlias(accountId: string, region: string, aliasName: string): boolean {
    const result = this.#stmt('DELETE FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').run(accountId, region, aliasName);
    return result.changes === 1;
  }

  getAlias(accountId: string, region: string, aliasName: string): AliasRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').get(accountId, region, aliasName) as Row | undefined;
    return row && aliasFromRow(row);
  }

  listAliases(
    accountId: string,
    region: string,
    page: { limit: number; marker?: string; keyId?: string },
  ): Page<AliasRecord> {
    const rows = (
      page.keyId
        ? this.#stmt(
            'SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND target_key_id = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, keyStoreId({ keyId: page.keyId, region }), page.marker ?? '', page.limit + 1)
        : this.#stmt(
            'SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, page.marker ?? '', page.limit + 1)
    ) as Row[];
    return toPage(rows.map(aliasFromRow), page.limit, (alias) => alias.aliasName);
  }

  createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): string {
    return this.#db.transaction(() => {
      const existing = this.#stmt('SELECT target_key_id FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').pluck().get(key.accountId, key.region, aliasName) as string | undefined;
      if (existing) return publicKeyId(existing);
      this.#insertKey(key);
      this.#insertBackingKey(backing);
      const now = key.creationDate.getTime();
      this.#stmt('INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?, ?, ?)').run(key.accountId, key.region, aliasName, keyStoreId(key), now, now);
      return key.keyId;
    })();
  }

  getKeyById(keyId: string, region?: string): KeyRecord | undefined {
    if (isMultiRegionKeyId(keyId) && region === undefined) return undefined;
    const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(keyStoreId({ keyId, region: region ?? '' })) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  listMultiRegionKeys(multiRegionKeyId: string): KeyRecord[] {
    const rows = this.#stmt('SELECT * FROM kms_keys WHERE multi_region_key_id = ? ORDER BY region').all(multiRegionKeyId) as Row[];
    return rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS));
  }

  replicateKey(replica: KeyRecord, backings: readonly BackingKeyRecord[], tags: Tag[]): 'created' | 'exists' | 'changed' {
    return this.#db.transaction(() => {
      const primaryRegion = replica.primaryRegion!;
      const primary = this.#stmt(
        "SELECT key_id FROM kms_keys WHERE key_id = ? AND primary_region = ? AND key_state IN ('Enabled', 'Disabled')",
      ).pluck().get(keyStoreId({ keyId: replica.keyId, region: primaryRegion }), primaryRegion) as string | undefined;
      if (!primary) return 'changed';
      // A replica of imported material gets none of the primary's (it is imported into each member).
      if (replica.origin !== 'EXTERNAL') {
        const present = this.#stmt('SELECT backing_key_id FROM kms_backing_keys WHERE key_id = ? ORDER BY backing_key_id').pluck().all(primary) as string[];
        const given = backings.map((backing) => backing.backingKeyId).sort();
        if (present.length !== given.length || present.some((id, index) => id !== given[index])) return 'changed';
      }
      if (this.#stmt('SELECT 1 FROM kms_keys WHERE key_id = ?').get(keyStoreId(replica))) return 'exists';
      this.#insertKey(replica);
      for (const backing of backings) this.#insertBackingKey(backing);
      this.#upsertTags(keyStoreId(replica), tags);
      return 'created';
    })();
  }

  updatePrimaryRegion(multiRegionKeyId: string, fromRegion: string, toRegion: string): boolean {
    return this.#db.transaction(() => {
      const from = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ? AND primary_region = ?').get(keyStoreId({ keyId: multiRegionKeyId, region: fromRegion }), fromRegion) as Row | undefined;
      if (!from) return false;
      const moved = this.#stmt(
        'UPDATE kms_keys SET rotation_enabled = ?, rotation_period_days = ?, next_rotation_date = ? WHERE key_id = ?',
      ).run(from.rotation_enabled, from.rotation_period_days, from.next_rotation_date, keyStoreId({ keyId: multiRegionKeyId, region: toRegion }));
      if (moved.changes === 0) return false;
      this.#stmt('UPDATE kms_keys SET rotation_enabled = 0, rotation_period_days = NULL, next_rotation_date = NULL WHERE key_id = ?').run(from.key_id);
      this.#stmt('UPDATE kms_keys SET primary_region = ? WHERE multi_region_key_id = ?').run(toRegion, multiRegionKeyId);
      return true;
    })();
  }

  scheduleMultiRegionKeyDeletion(accountId: string, region: string, keyId: string, pendingWindowDays: number, now: Date): KeyRecord | undefined {
    return this.#db.transaction(() => {
      const replicas = this.#stmt(
        'SELECT count(*) FROM kms_keys WHERE multi_region_key_id = ? AND primary_region = ? AND region <> primary_region',
      ).pluck().get(keyId, region) as number;
      const waits = replicas > 0;
      const row = this.#stmt(
        `UPDATE kms_keys SET key_state = ?, deletion_date = ?, pending_window_days = ?
         WHERE key_id = ? AND account_id = ? AND region = ? AND key_state IN ('Enabled', 'Disabled', 'PendingImport') RETURNING *`,
      ).get(
        waits ? 'PendingReplicaDeletion' : 'PendingDeletion',
        waits ? null : now.getTime() + pendingWindowDays * 86_400_000,
        pendingWindowDays,
        keyStoreId({ keyId, region }),
        accountId,
        region,
      ) as Row | undefined;
      return row && keyFromRow(row, BOOLEAN_COLUMNS);
    })();
  }

  #insertKey(key: KeyRecord): void {
    const { multiRegionKeyId, primaryRegion } = multiRegionColumns(key);
    this.#stmt(
      `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_usage, key_spec, origin, key_manager,
         key_state, creation_date, deletion_date, pending_window_days, policy, rotation_enabled, rotation_period_days,
         next_rotation_date, current_backing_key_id, multi_region_key_id, primary_region, valid_to, expiration_model, key_material_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      keyStoreId(key), key.accountId, key.region, key.arn, key.description, key.keyUsage, key.keySpec, key.origin,
      key.keyManager, key.keyState, key.creationDate.getTime(), key.deletionDate?.getTime() ?? null,
      key.pendingWindowDays ?? null, key.policy, key.rotationEnabled ? 1 : 0, key.rotationPeriodDays ?? null,
      key.nextRotationDate?.getTime() ?? null, key.currentBackingKeyId, multiRegionKeyId, primaryRegion, key.validTo?.getTime() ?? null,
      key.expirationModel ?? null, key.keyMaterialId ?? null,
    );
  }

  #insertBackingKey(backing: BackingKeyRecord): void {
    this.#stmt(
      'INSERT INTO kms_backing_keys (key_id, backing_key_id, sealed_material, created_at, rotation_type) VALUES (?, ?, ?, ?, ?)',
    ).run(backing.keyId, backing.backingKeyId, backing.sealedMaterial, backing.createdAt.getTime(), backing.rotationType ?? null);
  }

  #upsertTags(keyId: string, tags: Tag[]): void {
    const upsert = this.#stmt(
      'INSERT INTO kms_key_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value',
    );
    for (const tag of tags) upsert.run(keyId, tag.TagKey, tag.TagValue);
  }
}

/** Rows were fetched with limit + 1, so an extra row means there is a next page. */
function toPage<T>(items: T[], limit: number, markerOf: (item: T) => string): Page<T> {
  if (items.length <= limit) return { items };
  const pageItems = items.slice(0, limit);
  return { items: pageItems, nextMarker: markerOf(pageItems[pageItems.length - 1]!) };
}

/** Thrown inside a transaction to roll it back when a limit would be exceeded. */
class LimitReached extends Error {}
