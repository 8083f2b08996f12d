import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { AliasRecord, BackingKeyRecord, ImportedMaterial, KeyPatch, KeyRecord, KeyState, Page, Tag } from '../records.js';
import { aliasFromRow, backingKeyFromRow, KEY_COLUMNS, keyFromRow } from '../rows/keys.js';
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
      this.#upsertTags(key.keyId, tags);
    })();
  }

  getKey(accountId: string, region: string, keyId: string): KeyRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ? AND account_id = ? AND region = ?').get(keyId, accountId, region) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Page<KeyRecord> {
    const rows = this.#stmt(
      'SELECT * FROM kms_keys WHERE account_id = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?',
    ).all(accountId, region, page.marker ?? '', page.limit + 1) as Row[];
    return toPage(rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS)), page.limit, (key) => key.keyId);
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
    const row = this.#stmt(sql).get(...values, keyId, accountId, region, ...(whenStates ?? [])) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number): boolean {
    return this.#db.transaction(() => {
      const count = this.#stmt("SELECT count(*) FROM kms_backing_keys WHERE key_id = ? AND rotation_type = 'ON_DEMAND'").pluck().get(backing.keyId) as number;
      if (count >= maxOnDemandRotations) return false;
      this.#insertBackingKey(backing);
      this.#stmt('UPDATE kms_keys SET current_backing_key_id = ? WHERE key_id = ?').run(backing.backingKeyId, backing.keyId);
      return true;
    })();
  }

  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date): boolean {
    return this.#db.transaction(() => {
      const claimed = this.#stmt(
        "UPDATE kms_keys SET current_backing_key_id = ?, next_rotation_date = ? WHERE key_id = ? AND key_state = 'Enabled' AND rotation_enabled = 1 AND next_rotation_date = ?",
      ).run(backing.backingKeyId, nextRotationDate.getTime(), backing.keyId, dueDate.getTime());
      if (claimed.changes === 0) return false;
      this.#insertBackingKey(backing);
      return true;
    })();
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

  destroyKey(keyId: string, now: Date): boolean {
    // Foreign keys cascade to backing keys, tags, aliases and grants.
    const result = this.#stmt(
      "DELETE FROM kms_keys WHERE key_id = ? AND key_state = 'PendingDeletion' AND deletion_date <= ?",
    ).run(keyId, now.getTime());
    return result.changes === 1;
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
    ).run(alias.accountId, alias.region, alias.aliasName, alias.targetKeyId, alias.creationDate.getTime(), alias.lastUpdatedDate.getTime());
    return result.changes === 1;
  }

  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): boolean {
    const result = this.#stmt(
      'UPDATE kms_aliases SET target_key_id = ?, last_updated_date = ? WHERE account_id = ? AND region = ? AND alias_name = ?',
    ).run(targetKeyId, now.getTime(), accountId, region, aliasName);
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
          ).all(accountId, region, page.keyId, page.marker ?? '', page.limit + 1)
        : this.#stmt(
            'SELECT * FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name > ? ORDER BY alias_name LIMIT ?',
          ).all(accountId, region, page.marker ?? '', page.limit + 1)
    ) as Row[];
    return toPage(rows.map(aliasFromRow), page.limit, (alias) => alias.aliasName);
  }

  createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): string {
    return this.#db.transaction(() => {
      const existing = this.#stmt('SELECT target_key_id FROM kms_aliases WHERE account_id = ? AND region = ? AND alias_name = ?').pluck().get(key.accountId, key.region, aliasName) as string | undefined;
      if (existing) return existing;
      this.#insertKey(key);
      this.#insertBackingKey(backing);
      const now = key.creationDate.getTime();
      this.#stmt('INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date) VALUES (?, ?, ?, ?, ?, ?)').run(key.accountId, key.region, aliasName, key.keyId, now, now);
      return key.keyId;
    })();
  }

  getKeyById(keyId: string): KeyRecord | undefined {
    const row = this.#stmt('SELECT * FROM kms_keys WHERE key_id = ?').get(keyId) as Row | undefined;
    return row && keyFromRow(row, BOOLEAN_COLUMNS);
  }

  #insertKey(key: KeyRecord): void {
    this.#stmt(
      `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_usage, key_spec, origin, key_manager,
         key_state, creation_date, deletion_date, pending_window_days, policy, rotation_enabled, rotation_period_days,
         next_rotation_date, current_backing_key_id, valid_to, expiration_model, key_material_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      key.keyId, key.accountId, key.region, key.arn, key.description, key.keyUsage, key.keySpec, key.origin,
      key.keyManager, key.keyState, key.creationDate.getTime(), key.deletionDate?.getTime() ?? null,
      key.pendingWindowDays ?? null, key.policy, key.rotationEnabled ? 1 : 0, key.rotationPeriodDays ?? null,
      key.nextRotationDate?.getTime() ?? null, key.currentBackingKeyId, key.validTo?.getTime() ?? null,
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
