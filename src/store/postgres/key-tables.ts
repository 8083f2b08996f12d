import { isMultiRegionKeyId, keyStoreId, MultiRegionKeyChangedError, publicKeyId, type AliasRecord, type BackingKeyRecord, type ImportedMaterial, type KeyPatch, type KeyRecord, type KeyState, type Page, type Tag } from '../records.js';
import { aliasFromRow, backingKeyFromRow, KEY_COLUMNS, keyFromRow, multiRegionColumns } from '../rows/keys.js';
import { BOOLEAN_COLUMNS, patchAssignments, toPage, type RunInTransaction, type RunPointRead } from './postgres-tables.js';
import type { Sql } from './transaction.js';

/**
 * KMS keys in PostgreSQL: keys, their backing keys (sealed material) and tags, aliases and AWS managed keys:
 * the SQL of SqliteKeyTables, each method one SERIALIZABLE transaction. Limits (on-demand rotations, tags)
 * are counted and written in the same transaction; a concurrent writer makes one of them retry (40001).
 * Grants are grant-tables.ts.
 */
export class PostgresKeyTables {
  readonly #transaction: RunInTransaction;
  /** The point reads on the path of every sealing and opening (a key, a backing key, an alias): one SELECT each, no transaction. */
  readonly #pointRead: RunPointRead;

  constructor(transaction: RunInTransaction, pointRead: RunPointRead = transaction) {
    this.#transaction = transaction;
    this.#pointRead = pointRead;
  }

  createKey(key: KeyRecord, backing: BackingKeyRecord | undefined, tags: Tag[]): Promise<void> {
    return this.#transaction(async (sql) => {
      await insertKey(sql, key);
      if (backing) await insertBackingKey(sql, backing);
      await upsertTags(sql, keyStoreId(key), tags);
    });
  }

  getKey(accountId: string, region: string, keyId: string): Promise<KeyRecord | undefined> {
    return this.#pointRead(async (sql) => {
      const row = await sql.one('SELECT * FROM kms_keys WHERE key_id = $1 AND account_id = $2 AND region = $3', [keyStoreId({ keyId, region }), accountId, region]);
      return row && keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }

  listKeys(accountId: string, region: string, page: { limit: number; marker?: string }): Promise<Page<KeyRecord>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        'SELECT * FROM kms_keys WHERE account_id = $1 AND region = $2 AND key_id > $3 ORDER BY key_id LIMIT $4',
        [accountId, region, page.marker ?? '', page.limit + 1],
      );
      return toPage(rows.map((row) => keyFromRow(row, BOOLEAN_COLUMNS)), page.limit, keyStoreId);
    });
  }

  updateKey(accountId: string, region: string, keyId: string, patch: KeyPatch, whenStates?: readonly KeyState[]): Promise<KeyRecord | undefined> {
    const { assignments, values } = patchAssignments(patch, KEY_COLUMNS, 5);
    const stateFilter = whenStates ? ' AND key_state = ANY($4::text[])' : ' AND $4::text[] IS NULL';
    const text = `UPDATE kms_keys SET ${assignments.join(', ') || 'key_id = key_id'}
                  WHERE key_id = $1 AND account_id = $2 AND region = $3${stateFilter} RETURNING *`;
    return this.#transaction(async (sql) => {
      const row = await sql.one(text, [keyStoreId({ keyId, region }), accountId, region, whenStates ?? null, ...values]);
      return row && keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }

  rotateKeyOnDemand(backing: BackingKeyRecord, maxOnDemandRotations: number, replicaBackings: readonly BackingKeyRecord[] = []): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const counted = await sql.one("SELECT count(*) AS rotations FROM kms_backing_keys WHERE key_id = $1 AND rotation_type = 'ON_DEMAND'", [backing.keyId]);
      if (counted!.rotations >= maxOnDemandRotations) return false;
      await assertReplicas(sql, backing.keyId, replicaBackings);
      for (const each of [backing, ...replicaBackings]) {
        await insertBackingKey(sql, each);
        await sql.run('UPDATE kms_keys SET current_backing_key_id = $1 WHERE key_id = $2', [each.backingKeyId, each.keyId]);
      }
      return true;
    });
  }

  /** A conditional update claims the rotation: of several nodes racing, one changes the row, the rest none. */
  rotateKeyOnSchedule(backing: BackingKeyRecord, dueDate: Date, nextRotationDate: Date, replicaBackings: readonly BackingKeyRecord[] = []): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const claimed = await sql.run(
        `UPDATE kms_keys SET current_backing_key_id = $1, next_rotation_date = $2
         WHERE key_id = $3 AND key_state = 'Enabled' AND rotation_enabled AND next_rotation_date = $4`,
        [backing.backingKeyId, nextRotationDate.getTime(), backing.keyId, dueDate.getTime()],
      );
      if (claimed === 0) return false;
      await addNewBackingKeys(sql, backing, replicaBackings);
      return true;
    });
  }

  /** A conditional update on the current backing key claims the rotation: of several nodes racing, one wins. */
  rotateKeyForUsage(backing: BackingKeyRecord, fromBackingKeyId: string, replicaBackings: readonly BackingKeyRecord[] = []): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const claimed = await sql.run('UPDATE kms_keys SET current_backing_key_id = $1 WHERE key_id = $2 AND current_backing_key_id = $3', [
        backing.backingKeyId,
        backing.keyId,
        fromBackingKeyId,
      ]);
      if (claimed === 0) return false;
      await addNewBackingKeys(sql, backing, replicaBackings);
      return true;
    });
  }

  reserveEncryptions(backingKeyId: string, count: number): Promise<number> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `INSERT INTO kms_encryption_reservations (backing_key_id, reserved_count) VALUES ($1, $2)
         ON CONFLICT (backing_key_id) DO UPDATE SET reserved_count = kms_encryption_reservations.reserved_count + excluded.reserved_count
         RETURNING reserved_count`,
        [backingKeyId, count],
      );
      return Number(row!.reserved_count);
    });
  }

  /** The conditional update decides; the backing key is added only if this (same) material's row is not there. */
  importKeyMaterial(backing: BackingKeyRecord, material: ImportedMaterial, whenStates: readonly KeyState[]): Promise<KeyRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `UPDATE kms_keys SET current_backing_key_id = $1, key_material_id = $2, expiration_model = $3, valid_to = $4, key_state = 'Enabled'
         WHERE key_id = $5 AND origin = 'EXTERNAL' AND (key_material_id IS NULL OR key_material_id = $2)
           AND key_state = ANY($6::text[]) RETURNING *`,
        [backing.backingKeyId, material.keyMaterialId, material.expirationModel, material.validTo?.getTime() ?? null, backing.keyId, whenStates],
      );
      if (!row) return undefined;
      const present = await sql.one('SELECT 1 AS present FROM kms_backing_keys WHERE key_id = $1 AND backing_key_id = $2', [backing.keyId, backing.backingKeyId]);
      if (!present) await insertBackingKey(sql, backing);
      return keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }

  deleteImportedKeyMaterial(keyId: string, condition: { whenStates?: readonly KeyState[]; expiredBy?: Date }): Promise<KeyRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `UPDATE kms_keys SET current_backing_key_id = '', valid_to = NULL, expiration_model = NULL,
           key_state = CASE WHEN key_state = 'PendingDeletion' THEN key_state ELSE 'PendingImport' END
         WHERE key_id = $1 AND origin = 'EXTERNAL' AND current_backing_key_id <> ''
           AND ($2::text[] IS NULL OR key_state = ANY($2::text[])) AND ($3::bigint IS NULL OR valid_to <= $3) RETURNING *`,
        [keyId, condition.whenStates ?? null, condition.expiredBy?.getTime() ?? null],
      );
      if (!row) return undefined;
      await sql.run('DELETE FROM kms_backing_keys WHERE key_id = $1', [keyId]);
      return keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }

  listKeysWithExpiredMaterial(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM kms_keys WHERE valid_to <= $1 ORDER BY valid_to LIMIT $2', [now.getTime(), limit])).map((row) =>
        keyFromRow(row, BOOLEAN_COLUMNS),
      ),
    );
  }

  getBackingKey(keyId: string, backingKeyId: string): Promise<BackingKeyRecord | undefined> {
    return this.#pointRead(async (sql) => {
      const row = await sql.one('SELECT * FROM kms_backing_keys WHERE key_id = $1 AND backing_key_id = $2', [keyId, backingKeyId]);
      return row && backingKeyFromRow(row);
    });
  }

  listBackingKeys(keyId: string): Promise<BackingKeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM kms_backing_keys WHERE key_id = $1 ORDER BY created_at, position', [keyId])).map(backingKeyFromRow),
    );
  }

  listKeysDueForDeletion(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows(
        "SELECT * FROM kms_keys WHERE key_state = 'PendingDeletion' AND deletion_date <= $1 ORDER BY deletion_date LIMIT $2",
        [now.getTime(), limit],
      )).map((row) => keyFromRow(row, BOOLEAN_COLUMNS)),
    );
  }

  listKeysDueForRotation(now: Date, limit: number): Promise<KeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows(
        "SELECT * FROM kms_keys WHERE rotation_enabled AND key_state = 'Enabled' AND next_rotation_date <= $1 ORDER BY next_rotation_date LIMIT $2",
        [now.getTime(), limit],
      )).map((row) => keyFromRow(row, BOOLEAN_COLUMNS)),
    );
  }

  countKeysByState(): Promise<Partial<Record<KeyState, number>>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows('SELECT key_state, count(*)::int AS keys FROM kms_keys GROUP BY key_state', []);
      return Object.fromEntries(rows.map((row) => [row.key_state, Number(row.keys)]));
    });
  }

  /** Foreign keys cascade to backing keys, tags, aliases and grants. */
  destroyKey(keyId: string, now: Date): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const removed = await sql.one(
        "DELETE FROM kms_keys WHERE key_id = $1 AND key_state = 'PendingDeletion' AND deletion_date <= $2 RETURNING multi_region_key_id",
        [keyId, now.getTime()],
      );
      if (!removed) return false;
      if (removed.multi_region_key_id !== null) {
        // The last replica gone: a primary waiting for it (PendingReplicaDeletion) starts its own window now.
        await sql.run(
          `UPDATE kms_keys SET key_state = 'PendingDeletion', deletion_date = $1::bigint + pending_window_days * 86400000::bigint
           WHERE multi_region_key_id = $2 AND key_state = 'PendingReplicaDeletion' AND region = primary_region
             AND NOT EXISTS (SELECT 1 FROM kms_keys r WHERE r.multi_region_key_id = $2 AND r.region <> r.primary_region)`,
          [now.getTime(), removed.multi_region_key_id],
        );
      }
      return true;
    });
  }

  /** Counts the tags the key would have before writing, so a refused call writes nothing. */
  putKeyTags(keyId: string, tags: Tag[], maxTags: number): Promise<boolean> {
    const newKeys = [...new Set(tags.map((tag) => tag.TagKey))];
    return this.#transaction(async (sql) => {
      const kept = await sql.one('SELECT count(*) AS tags FROM kms_key_tags WHERE key_id = $1 AND NOT (tag_key = ANY($2::text[]))', [keyId, newKeys]);
      if (kept!.tags + newKeys.length > maxTags) return false;
      await upsertTags(sql, keyId, tags);
      return true;
    });
  }

  removeKeyTags(keyId: string, tagKeys: string[]): Promise<void> {
    return this.#transaction(async (sql) => {
      await sql.run('DELETE FROM kms_key_tags WHERE key_id = $1 AND tag_key = ANY($2::text[])', [keyId, tagKeys]);
    });
  }

  listKeyTags(keyId: string): Promise<Tag[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT tag_key, tag_value FROM kms_key_tags WHERE key_id = $1 ORDER BY tag_key', [keyId])).map((row) => ({
        TagKey: row.tag_key,
        TagValue: row.tag_value,
      })),
    );
  }

  createAlias(alias: AliasRecord): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        `INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, region, alias_name) DO NOTHING`,
        [alias.accountId, alias.region, alias.aliasName, keyStoreId({ keyId: alias.targetKeyId, region: alias.region }), alias.creationDate.getTime(), alias.lastUpdatedDate.getTime()],
      )) === 1,
    );
  }

  updateAlias(accountId: string, region: string, aliasName: string, targetKeyId: string, now: Date): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run(
        'UPDATE kms_aliases SET target_key_id = $1, last_updated_date = $2 WHERE account_id = $3 AND region = $4 AND alias_name = $5',
        [keyStoreId({ keyId: targetKeyId, region }), now.getTime(), accountId, region, aliasName],
      )) === 1,
    );
  }

  deleteAlias(accountId: string, region: string, aliasName: string): Promise<boolean> {
    return this.#transaction(async (sql) =>
      (await sql.run('DELETE FROM kms_aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName])) === 1,
    );
  }

  getAlias(accountId: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    return this.#pointRead(async (sql) => {
      const row = await sql.one('SELECT * FROM kms_aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [accountId, region, aliasName]);
      return row && aliasFromRow(row);
    });
  }

  listAliases(accountId: string, region: string, page: { limit: number; marker?: string; keyId?: string }): Promise<Page<AliasRecord>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(
        `SELECT * FROM kms_aliases WHERE account_id = $1 AND region = $2 AND ($3::text IS NULL OR target_key_id = $3)
           AND alias_name > $4 ORDER BY alias_name LIMIT $5`,
        [accountId, region, page.keyId === undefined ? null : keyStoreId({ keyId: page.keyId, region }), page.marker ?? '', page.limit + 1],
      );
      return toPage(rows.map(aliasFromRow), page.limit, (alias) => alias.aliasName);
    });
  }

  /**
   * The alias is read and, when absent, the key and alias written in one SERIALIZABLE transaction: of
   * concurrent first uses one commits, the others fail (40001, or the alias's primary key) and, retried,
   * read its alias.
   */
  createManagedKey(key: KeyRecord, backing: BackingKeyRecord, aliasName: string): Promise<string> {
    return this.#transaction(async (sql) => {
      const existing = await sql.one('SELECT target_key_id FROM kms_aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3', [key.accountId, key.region, aliasName]);
      if (existing) return publicKeyId(existing.target_key_id as string);
      await insertKey(sql, key);
      await insertBackingKey(sql, backing);
      const now = key.creationDate.getTime();
      await sql.run(
        'INSERT INTO kms_aliases (account_id, region, alias_name, target_key_id, creation_date, last_updated_date) VALUES ($1, $2, $3, $4, $5, $6)',
        [key.accountId, key.region, aliasName, keyStoreId(key), now, now],
      );
      return key.keyId;
    });
  }

  getKeyById(keyId: string, region?: string): Promise<KeyRecord | undefined> {
    if (isMultiRegionKeyId(keyId) && region === undefined) return Promise.resolve(undefined);
    return this.#pointRead(async (sql) => {
      const row = await sql.one('SELECT * FROM kms_keys WHERE key_id = $1', [keyStoreId({ keyId, region: region ?? '' })]);
      return row && keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }

  listMultiRegionKeys(multiRegionKeyId: string): Promise<KeyRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM kms_keys WHERE multi_region_key_id = $1 ORDER BY region COLLATE "C"', [multiRegionKeyId])).map((row) =>
        keyFromRow(row, BOOLEAN_COLUMNS),
      ),
    );
  }

  replicateKey(replica: KeyRecord, backings: readonly BackingKeyRecord[], tags: Tag[]): Promise<'created' | 'exists' | 'changed'> {
    return this.#transaction(async (sql) => {
      const primaryRegion = replica.primaryRegion!;
      const primary = await sql.one(
        "SELECT key_id FROM kms_keys WHERE key_id = $1 AND primary_region = $2 AND key_state IN ('Enabled', 'Disabled')",
        [keyStoreId({ keyId: replica.keyId, region: primaryRegion }), primaryRegion],
      );
      if (!primary) return 'changed';
      // A replica of imported material gets none of the primary's (it is imported into each member).
      if (replica.origin !== 'EXTERNAL') {
        const present = (await sql.rows('SELECT backing_key_id FROM kms_backing_keys WHERE key_id = $1', [primary.key_id])).map((row) => row.backing_key_id as string).sort();
        const given = backings.map((backing) => backing.backingKeyId).sort();
        if (present.length !== given.length || present.some((id, index) => id !== given[index])) return 'changed';
      }
      if (await sql.one('SELECT 1 FROM kms_keys WHERE key_id = $1', [keyStoreId(replica)])) return 'exists';
      await insertKey(sql, replica);
      for (const backing of backings) await insertBackingKey(sql, backing);
      await upsertTags(sql, keyStoreId(replica), tags);
      return 'created';
    });
  }

  updatePrimaryRegion(multiRegionKeyId: string, fromRegion: string, toRegion: string): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const from = await sql.one('SELECT * FROM kms_keys WHERE key_id = $1 AND primary_region = $2', [keyStoreId({ keyId: multiRegionKeyId, region: fromRegion }), fromRegion]);
      if (!from) return false;
      const moved = await sql.run(
        'UPDATE kms_keys SET rotation_enabled = $1, rotation_period_days = $2, next_rotation_date = $3 WHERE key_id = $4',
        [from.rotation_enabled, from.rotation_period_days, from.next_rotation_date, keyStoreId({ keyId: multiRegionKeyId, region: toRegion })],
      );
      if (moved === 0) return false;
      await sql.run('UPDATE kms_keys SET rotation_enabled = false, rotation_period_days = NULL, next_rotation_date = NULL WHERE key_id = $1', [from.key_id]);
      await sql.run('UPDATE kms_keys SET primary_region = $1 WHERE multi_region_key_id = $2', [toRegion, multiRegionKeyId]);
      return true;
    });
  }

  scheduleMultiRegionKeyDeletion(accountId: string, region: string, keyId: string, pendingWindowDays: number, now: Date): Promise<KeyRecord | undefined> {
    return this.#transaction(async (sql) => {
      const counted = await sql.one(
        'SELECT count(*) AS replicas FROM kms_keys WHERE multi_region_key_id = $1 AND primary_region = $2 AND region <> primary_region',
        [keyId, region],
      );
      const waits = counted!.replicas > 0;
      const row = await sql.one(
        `UPDATE kms_keys SET key_state = $1, deletion_date = $2, pending_window_days = $3
         WHERE key_id = $4 AND account_id = $5 AND region = $6 AND key_state IN ('Enabled', 'Disabled', 'PendingImport') RETURNING *`,
        [
          waits ? 'PendingReplicaDeletion' : 'PendingDeletion',
          waits ? null : now.getTime() + pendingWindowDays * 86_400_000,
          pendingWindowDays,
          keyStoreId({ keyId, region }),
          accountId,
          region,
        ],
      );
      return row && keyFromRow(row, BOOLEAN_COLUMNS);
    });
  }
}

async function insertKey(sql: Sql, key: KeyRecord): Promise<void> {
  const { multiRegionKeyId, primaryRegion } = multiRegionColumns(key);
  await sql.run(
    `INSERT INTO kms_keys (key_id, account_id, region, arn, description, key_usage, key_spec, origin, key_manager,
       key_state, creation_date, deletion_date, pending_window_days, policy, rotation_enabled, rotation_period_days,
       next_rotation_date, current_backing_key_id, multi_region_key_id, primary_region, valid_to, expiration_model, key_material_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
    [
      keyStoreId(key), key.accountId, key.region, key.arn, key.description, key.keyUsage, key.keySpec, key.origin,
      key.keyManager, key.keyState, key.creationDate.getTime(), key.deletionDate?.getTime() ?? null,
      key.pendingWindowDays ?? null, key.policy, key.rotationEnabled, key.rotationPeriodDays ?? null,
      key.nextRotationDate?.getTime() ?? null, key.currentBackingKeyId, multiRegionKeyId, primaryRegion, key.validTo?.getTime() ?? null,
      key.expirationModel ?? null, key.keyMaterialId ?? null,
    ],
  );
}

/** After a rotation's claim, inside its transaction: the new backing keys, the replicas' made current (throwing rolls the claim back). */
async function addNewBackingKeys(sql: Sql, backing: BackingKeyRecord, replicaBackings: readonly BackingKeyRecord[]): Promise<void> {
  await assertReplicas(sql, backing.keyId, replicaBackings);
  await insertBackingKey(sql, backing);
  for (const each of replicaBackings) {
    await insertBackingKey(sql, each);
    await sql.run('UPDATE kms_keys SET current_backing_key_id = $1 WHERE key_id = $2', [each.backingKeyId, each.keyId]);
  }
}

/** The backing key takes the next position of its key (see the 'kms' migration). */
async function insertBackingKey(sql: Sql, backing: BackingKeyRecord): Promise<void> {
  await sql.run(
    `INSERT INTO kms_backing_keys (key_id, backing_key_id, position, sealed_material, created_at, rotation_type)
     SELECT $1, $2, coalesce(max(position), 0) + 1, $3, $4, $5 FROM kms_backing_keys WHERE key_id = $1`,
    [backing.keyId, backing.backingKeyId, backing.sealedMaterial, backing.createdAt.getTime(), backing.rotationType ?? null],
  );
}

async function upsertTags(sql: Sql, keyId: string, tags: Tag[]): Promise<void> {
  for (const tag of tags) {
    await sql.run(
      'INSERT INTO kms_key_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3) ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value',
      [keyId, tag.TagKey, tag.TagValue],
    );
  }
}

/** The replicas of the key stored under `storeId` are exactly those `replicaBackings` were sealed for. */
async function assertReplicas(sql: Sql, storeId: string, replicaBackings: readonly BackingKeyRecord[]): Promise<void> {
  const replicas = (
    await sql.rows(
      `SELECT r.key_id FROM kms_keys p JOIN kms_keys r ON r.multi_region_key_id = p.multi_region_key_id AND r.key_id <> p.key_id
       WHERE p.key_id = $1`,
      [storeId],
    )
  ).map((row) => row.key_id as string).sort();
  const given = replicaBackings.map((backing) => backing.keyId).sort();
  if (replicas.length !== given.length || replicas.some((id, index) => id !== given[index])) throw new MultiRegionKeyChangedError();
}
