import type {
  LabelPlanner,
  PagedSecret,
  ReplicaState,
  ReplicaSyncOutcome,
  SecretAccessRecord,
  SecretPageRequest,
  SecretPatch,
  SecretRecord,
  SecretReplicaRecord,
  SecretRotation,
  SecretSort,
  SecretVersionRecord,
  Tag,
  VersionDataKey,
  VersionLabels,
} from '../records.js';
import { planReplicaVersions, StaleReplicaState } from '../replica-sync.js';
import { decodeDataKeys, encodeDataKeys, groupBy, REPLICA_SELECT, replicaFromRow, rotationValues, SECRET_COLUMNS, secretFromRow, stagesByVersion, versionFromRow } from '../rows/secrets.js';
import type { SecretsRepository } from '../repositories/secrets.js';
import { BOOLEAN_COLUMNS, patchAssignments, type RunInTransaction, type RunPointRead } from './postgres-tables.js';
import type { Sql } from './transaction.js';
import type { WriteScope } from '../read-cache-scope.js';

/**
 * A transaction as the store runs it, told the secrets it writes: the read caches then drop only their entries,
 * here and on the other nodes (read-cache-scope.ts). A write that names none empties everything.
 */
type RunScopedTransaction = <T>(body: (sql: Sql) => Promise<T>, scope?: WriteScope) => Promise<T>;

/** The scope of a write of these secrets. */
const writing = (...secretArns: string[]): WriteScope => ({ secretArns });

/**
 * What each ListSecrets order sorts on; each has an index on (account_id, region, <expression>, list_position)
 * (migration 'secrets'). A never-accessed secret sorts as -1, never NULL, so a cursor is always a value.
 */
const SORT_EXPRESSIONS: Record<SecretSort, string> = {
  'created-date': 'created_date',
  'last-accessed-date': 'coalesce(last_accessed_date, -1)',
  'last-changed-date': 'last_changed_date',
  name: 'name',
};

/** A version's stages, sorted, in the same statement as the version (`v`): one statement per version read. */
const STAGES_OF_VERSION = `array(SELECT stage FROM secret_version_stages s
    WHERE s.secret_arn = v.secret_arn AND s.version_id = v.version_id ORDER BY stage) AS stages`;

/** The AWSCURRENT version's columns beside a secret's (`s.*`), prefixed so that none shadows a secret column. */
const CURRENT_VERSION_COLUMNS = `v.version_id AS current_version_id, v.data_keys AS current_data_keys, v.sealed_value AS current_sealed_value,
    v.value_type AS current_value_type, v.created_date AS current_created_date, v.last_accessed_date AS current_last_accessed_date,
    ${STAGES_OF_VERSION.replace(' AS stages', ' AS current_stages')}`;

/** A secret and its AWSCURRENT version, when it has one. */
export type SecretWithCurrent = { secret: SecretRecord; current?: SecretVersionRecord };

type CreateOutcome = { created: true } | { created: false; existing: SecretRecord };
type PutVersionOutcome = { inserted: true } | { inserted: false; existing: SecretVersionRecord };

/**
 * Secrets with their versions, staging labels, tags and resource policies in PostgreSQL: the SQL of
 * SqliteSecretTables (and setSecretRotation of its rotation tables). A label change reads the labels, lets
 * the pure planner decide and applies the plan in one SERIALIZABLE transaction: a concurrent label change of
 * the same secret makes one of them fail with 40001 and run again (planner included) on the labels as the
 * other left them.
 */
export class PostgresSecretTables implements SecretsRepository {
  readonly #transaction: RunScopedTransaction;
  /** The point reads on GetSecretValue's path (a secret by name or ARN, a version): one SELECT each, no transaction. */
  readonly #pointRead: RunPointRead;

  constructor(transaction: RunScopedTransaction, pointRead: RunPointRead = transaction) {
    this.#transaction = transaction;
    this.#pointRead = pointRead;
  }

  createSecret(secret: SecretRecord, tags: Tag[], firstVersion?: Omit<SecretVersionRecord, 'stages'>): Promise<CreateOutcome> {
    return this.#transaction(async (sql): Promise<CreateOutcome> => {
      const inserted = await sql.run(
        `INSERT INTO secrets (arn, account_id, region, name, list_position, description, kms_key_id, created_date,
           last_changed_date, last_accessed_date, deleted_date, scheduled_deletion_date, owning_service, primary_region)
         SELECT $1, $2, $3, $4, coalesce(max(list_position), 0) + 1, $5, $6, $7, $8, $9, $10, $11, $12, $13
           FROM secrets WHERE account_id = $2 AND region = $3
         ON CONFLICT DO NOTHING`,
        [
          secret.arn, secret.accountId, secret.region, secret.name, secret.description ?? null, secret.kmsKeyId ?? null,
          secret.createdDate.getTime(), secret.lastChangedDate.getTime(), secret.lastAccessedDate?.getTime() ?? null,
          secret.deletedDate?.getTime() ?? null, secret.scheduledDeletionDate?.getTime() ?? null,
          secret.owningService ?? null, secret.primaryRegion,
        ],
      );
      if (inserted === 0) {
        const existing = await secretByName(sql, secret.accountId, secret.region, secret.name);
        if (!existing) throw new Error(`secret ARN collision: ${secret.arn}`);
        return { created: false, existing };
      }
      await upsertTags(sql, secret.arn, tags);
      if (firstVersion) {
        await insertVersion(sql, firstVersion);
        await setStage(sql, secret.arn, 'AWSCURRENT', firstVersion.versionId);
      }
      return { created: true };
    }, writing(secret.arn));
  }

  getSecretByArn(arn: string): Promise<SecretRecord | undefined> {
    return this.#pointRead((sql) => secretByArn(sql, arn));
  }

  getSecretByName(accountId: string, region: string, name: string): Promise<SecretRecord | undefined> {
    return this.#pointRead((sql) => secretByName(sql, accountId, region, name));
  }

  /**
   * A secret (by ARN or by name) and, in the same SELECT, its AWSCURRENT version: what GetSecretValue reads next,
   * so the store's read cache can keep both from one round trip instead of two (postgres-store.ts).
   */
  getSecretWithCurrentVersion(by: { arn: string } | { accountId: string; region: string; name: string }): Promise<SecretWithCurrent | undefined> {
    return this.#pointRead(async (sql) => {
      const [where, params] = 'arn' in by ? ['s.arn = $1', [by.arn]] : ['s.account_id = $1 AND s.region = $2 AND s.name = $3', [by.accountId, by.region, by.name]];
      const row = await sql.one(
        `SELECT s.*, ${CURRENT_VERSION_COLUMNS} FROM secrets s
         LEFT JOIN secret_version_stages st ON st.secret_arn = s.arn AND st.stage = 'AWSCURRENT'
         LEFT JOIN secret_versions v ON v.secret_arn = st.secret_arn AND v.version_id = st.version_id
         WHERE ${where}`,
        params,
      );
      if (!row) return undefined;
      const secret = secretFromRow(row, BOOLEAN_COLUMNS);
      if (row.current_version_id === null) return { secret };
      const current = versionFromRow(
        {
          secret_arn: secret.arn,
          version_id: row.current_version_id,
          data_keys: row.current_data_keys,
          sealed_value: row.current_sealed_value,
          value_type: row.current_value_type,
          created_date: row.current_created_date,
          last_accessed_date: row.current_last_accessed_date,
        },
        row.current_stages,
      );
      return { secret, current };
    });
  }

  listSecretPage(accountId: string, region: string, page: SecretPageRequest): Promise<PagedSecret[]> {
    const sortExpression = SORT_EXPRESSIONS[page.sortBy];
    const direction = page.descending ? 'DESC' : 'ASC';
    // After a cursor (v, p): the rows beyond (v, p) in the sort direction, as one row comparison, which the index on
    // (account_id, region, <expression>, list_position) seeks to; `expr >= v AND (expr > v OR position > p)` read
    // every tie before p to skip it (100,000 secrets of one last-accessed day, 90,000 deep: 20 ms against 0.17).
    const beyond = page.descending ? '<' : '>';
    const after = page.after ? `AND (${sortExpression}, list_position) ${beyond} ($6, $7)` : '';
    // Expressions and directions come from the fixed tables above only; list_position breaks ties in creation order.
    const text = `SELECT ${sortExpression} AS list_sort_value, * FROM secrets
      WHERE account_id = $1 AND region = $2
        AND (scheduled_deletion_date IS NULL OR scheduled_deletion_date > $3)
        ${page.includeDeleted ? '' : 'AND deleted_date IS NULL'}
        ${after}
      ORDER BY ${sortExpression} ${direction}, list_position ${direction} LIMIT $4 OFFSET $5`;
    const cursorValues = page.after ? [page.after.sortValue, page.after.position] : [];
    const offset = page.after ? 0 : (page.offset ?? 0);
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(text, [accountId, region, page.now.getTime(), page.limit, offset, ...cursorValues]);
      const arns = rows.map((row) => row.arn as string);
      const tags = await tagsOf(sql, arns);
      const stages = page.labels === false ? {} : await versionStages(sql, arns);
      return rows.map((row) =>
        Object.assign(secretFromRow(row, BOOLEAN_COLUMNS), {
          tags: tags.get(row.arn) ?? [],
          versionStages: stages[row.arn] ?? {},
          cursor: { sortValue: row.list_sort_value, position: row.list_position },
        }),
      );
    });
  }

  listSecrets(accountId: string, region: string): Promise<Array<SecretRecord & { tags: Tag[] }>> {
    return this.#transaction(async (sql) => {
      const secrets = (await sql.rows('SELECT * FROM secrets WHERE account_id = $1 AND region = $2 ORDER BY created_date, list_position', [accountId, region])).map((row) => secretFromRow(row, BOOLEAN_COLUMNS));
      const tags = await tagsOf(sql, secrets.map((secret) => secret.arn));
      return secrets.map((secret) => ({ ...secret, tags: tags.get(secret.arn) ?? [] }));
    });
  }

  listVersionStages(secretArns: string[]): Promise<Record<string, Record<string, string[]>>> {
    return this.#transaction((sql) => versionStages(sql, secretArns));
  }

  markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date): Promise<SecretRecord | undefined> {
    return this.#updateSecret(
      arn,
      `UPDATE secrets SET deleted_date = $1, scheduled_deletion_date = $2 WHERE arn = $3 AND deleted_date IS NULL
         AND NOT EXISTS (SELECT 1 FROM secret_replicas r WHERE r.primary_arn = secrets.arn) RETURNING *`,
      [
      deletedDate.getTime(),
      scheduledDeletionDate.getTime(),
      arn,
    ]);
  }

  setSecretResourcePolicy(arn: string, policy: string | undefined): Promise<SecretRecord | undefined> {
    return this.#updateSecret(arn, 'UPDATE secrets SET resource_policy = $1 WHERE arn = $2 RETURNING *', [policy ?? null, arn]);
  }

  restoreSecret(arn: string): Promise<SecretRecord | undefined> {
    return this.#updateSecret(arn, 'UPDATE secrets SET deleted_date = NULL, scheduled_deletion_date = NULL WHERE arn = $1 RETURNING *', [arn]);
  }

  setSecretRotation(arn: string, rotation: SecretRotation): Promise<SecretRecord | undefined> {
    return this.#updateSecret(
      arn,
      `UPDATE secrets SET rotation_enabled = $1, rotation_lambda_arn = $2, rotation_rules = $3, last_rotated_date = $4,
         next_rotation_date = $5, next_rotation_window_end = $6 WHERE arn = $7 RETURNING *`,
      [...rotationValues(rotation, BOOLEAN_COLUMNS), arn],
    );
  }

  destroySecret(arn: string): Promise<boolean> {
    return this.#transaction(async (sql) => {
      // SERIALIZABLE: a concurrent addSecretReplicas conflicts with this read, and one of the two retries.
      if (await sql.one('SELECT 1 AS replicated FROM secret_replicas WHERE primary_arn = $1 LIMIT 1', [arn])) return false;
      return destroy(sql, arn);
    }, writing(arn));
  }

  listSecretsDueForDeletion(now: Date, limit: number): Promise<SecretRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows('SELECT * FROM secrets WHERE scheduled_deletion_date <= $1 ORDER BY scheduled_deletion_date LIMIT $2', [now.getTime(), limit])).map((row) => secretFromRow(row, BOOLEAN_COLUMNS)),
    );
  }

  recordSecretAccesses(accesses: readonly SecretAccessRecord[]): Promise<void> {
    return this.#transaction(async (sql) => {
      for (const { arn, versionId, accessedDate } of accesses) {
        const ms = accessedDate.getTime();
        // Writes only when the date changes (it is kept to the day).
        await sql.run('UPDATE secrets SET last_accessed_date = $1 WHERE arn = $2 AND (last_accessed_date IS NULL OR last_accessed_date <> $1)', [ms, arn]);
        await sql.run(
          'UPDATE secret_versions SET last_accessed_date = $1 WHERE secret_arn = $2 AND version_id = $3 AND (last_accessed_date IS NULL OR last_accessed_date <> $1)',
          [ms, arn, versionId],
        );
      }
    }, writing(...accesses.map((access) => access.arn)));
  }

  putSecretVersion(version: Omit<SecretVersionRecord, 'stages'>, planner: LabelPlanner, lastChangedDate: Date): Promise<PutVersionOutcome> {
    return this.#transaction(async (sql): Promise<PutVersionOutcome> => {
      const existing = await secretVersion(sql, version.secretArn, version.versionId);
      if (existing?.sealedValue || (existing && !version.sealedValue)) return { inserted: false, existing };
      if (existing) await fillPlaceholder(sql, version);
      else await insertVersion(sql, version);
      await applyPlan(sql, version.secretArn, planner, lastChangedDate);
      return { inserted: true };
    }, writing(version.secretArn));
  }

  updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): Promise<void> {
    return this.#transaction((sql) => applyPlan(sql, secretArn, planner, lastChangedDate), writing(secretArn));
  }

  rewrapSecretVersions(secretArn: string, dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>, patch: SecretPatch): Promise<SecretRecord | undefined> {
    return this.#transaction(async (sql) => {
      for (const { versionId, dataKey } of dataKeys) {
        const current = await sql.one('SELECT data_keys FROM secret_versions WHERE secret_arn = $1 AND version_id = $2', [secretArn, versionId]);
        // A version pruned meanwhile has nothing left to re-encrypt.
        if (!current) continue;
        const updated = [dataKey, ...decodeDataKeys(current.data_keys)];
        await sql.run('UPDATE secret_versions SET data_keys = $1 WHERE secret_arn = $2 AND version_id = $3', [encodeDataKeys(updated), secretArn, versionId]);
      }
      const { assignments, values } = patchAssignments(patch, SECRET_COLUMNS, 2);
      if (assignments.length === 0) return secretByArn(sql, secretArn);
      const row = await sql.one(`UPDATE secrets SET ${assignments.join(', ')} WHERE arn = $1 RETURNING *`, [secretArn, ...values]);
      return row && secretFromRow(row, BOOLEAN_COLUMNS);
    }, writing(secretArn));
  }

  getSecretVersion(secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined> {
    return this.#pointRead((sql) => secretVersion(sql, secretArn, versionId));
  }

  getSecretVersionByStage(secretArn: string, stage: string): Promise<SecretVersionRecord | undefined> {
    return this.#pointRead(async (sql) => {
      const row = await sql.one(
        `SELECT v.*, ${STAGES_OF_VERSION} FROM secret_version_stages st
         JOIN secret_versions v ON v.secret_arn = st.secret_arn AND v.version_id = st.version_id WHERE st.secret_arn = $1 AND st.stage = $2`,
        [secretArn, stage],
      );
      return row && versionFromRow(row, row.stages);
    });
  }

  listSecretVersions(secretArn: string): Promise<SecretVersionRecord[]> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(`SELECT v.*, ${STAGES_OF_VERSION} FROM secret_versions v WHERE v.secret_arn = $1 ORDER BY created_date DESC, position DESC`, [secretArn]);
      return rows.map((row) => versionFromRow(row, row.stages));
    });
  }

  putSecretTags(arn: string, tags: Tag[]): Promise<void> {
    return this.#transaction((sql) => upsertTags(sql, arn, tags), writing(arn));
  }

  removeSecretTags(arn: string, tagKeys: string[]): Promise<void> {
    return this.#transaction(async (sql) => {
      await sql.run('DELETE FROM secret_tags WHERE secret_arn = $1 AND tag_key = ANY($2::text[])', [arn, tagKeys]);
    }, writing(arn));
  }

  listSecretTags(arn: string): Promise<Tag[]> {
    return this.#transaction(async (sql) => (await tagsOf(sql, [arn])).get(arn) ?? []);
  }

  addSecretReplicas(primaryArn: string, replicas: Array<Pick<SecretReplicaRecord, 'region' | 'replicaArn' | 'kmsKeyId' | 'forceOverwrite'>>): Promise<string[]> {
    return this.#transaction(async (sql) => {
      const added: string[] = [];
      for (const replica of replicas) {
        const inserted = await sql.run(
          `INSERT INTO secret_replicas (primary_arn, region, replica_arn, kms_key_id, status, force_overwrite, generation)
           SELECT $1, $2, $3, $4, 'InProgress', $5, 0 WHERE EXISTS (SELECT 1 FROM secrets WHERE arn = $1 AND deleted_date IS NULL)
           ON CONFLICT DO NOTHING`,
          [primaryArn, replica.region, replica.replicaArn, replica.kmsKeyId ?? null, replica.forceOverwrite],
        );
        if (inserted === 1) added.push(replica.region);
      }
      return added;
    }, writing(primaryArn));
  }

  listSecretReplicas(primaryArns: string[]): Promise<Record<string, SecretReplicaRecord[]>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows(`${REPLICA_SELECT} WHERE r.primary_arn = ANY($1::text[]) ORDER BY r.primary_arn, r.region`, [primaryArns]);
      const result: Record<string, SecretReplicaRecord[]> = {};
      for (const arn of primaryArns) result[arn] = [];
      for (const row of rows) result[row.primary_arn]!.push(replicaFromRow(row, BOOLEAN_COLUMNS));
      return result;
    });
  }

  listSecretReplicasToSync(limit: number): Promise<SecretReplicaRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows(`${REPLICA_SELECT} WHERE r.status <> 'InSync' ORDER BY r.generation LIMIT $1`, [limit])).map((row) => replicaFromRow(row, BOOLEAN_COLUMNS)),
    );
  }

  beginReplicaSync(primaryArn: string, region: string): Promise<number | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        "UPDATE secret_replicas SET generation = generation + 1, status = 'InProgress' WHERE primary_arn = $1 AND region = $2 RETURNING generation",
        [primaryArn, region],
      );
      return row ? Number(row.generation) : undefined;
    }, writing(primaryArn));
  }

  failReplicaSync(primaryArn: string, region: string, generation: number, message: string): Promise<void> {
    return this.#transaction((sql) => failSync(sql, primaryArn, region, generation, message), writing(primaryArn));
  }

  applyReplicaSync(primaryArn: string, region: string, generation: number, state: ReplicaState, nameTakenMessage: string): Promise<ReplicaSyncOutcome> {
    return this.#transaction((sql) => applySync(sql, primaryArn, region, generation, state, nameTakenMessage)).catch((error: unknown) => {
      if (error instanceof StaleReplicaState) return 'stale' as const;
      throw error;
    });
  }

  setReplicaKmsKey(primaryArn: string, region: string, kmsKeyId: string | undefined): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('UPDATE secret_replicas SET kms_key_id = $1 WHERE primary_arn = $2 AND region = $3', [kmsKeyId ?? null, primaryArn, region])) === 1, writing(primaryArn));
  }

  removeSecretReplicas(primaryArn: string, regions: string[]): Promise<void> {
    return this.#transaction(async (sql) => {
      for (const region of regions) {
        const row = await sql.one('DELETE FROM secret_replicas WHERE primary_arn = $1 AND region = $2 RETURNING replica_arn', [primaryArn, region]);
        // Only while it is still this primary's replica: a promoted secret is nobody's to delete.
        const replica = row ? await secretByArn(sql, row.replica_arn) : undefined;
        if (replica && replica.primaryRegion !== replica.region) await destroy(sql, replica.arn);
      }
    });
  }

  promoteReplicaSecret(replicaArn: string, primaryArn: string): Promise<SecretRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one('UPDATE secrets SET primary_region = region WHERE arn = $1 AND primary_region <> region RETURNING *', [replicaArn]);
      if (!row) return undefined;
      await sql.run('DELETE FROM secret_replicas WHERE primary_arn = $1 AND replica_arn = $2', [primaryArn, replicaArn]);
      return secretFromRow(row, BOOLEAN_COLUMNS);
    }, writing(replicaArn, primaryArn));
  }

  /** One UPDATE of the secret `arn` (and of nothing else), returning it. */
  async #updateSecret(arn: string, text: string, params: unknown[]): Promise<SecretRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(text, params);
      return row && secretFromRow(row, BOOLEAN_COLUMNS);
    }, writing(arn));
  }
}

async function secretByArn(sql: Sql, arn: string): Promise<SecretRecord | undefined> {
  const row = await sql.one('SELECT * FROM secrets WHERE arn = $1', [arn]);
  return row && secretFromRow(row, BOOLEAN_COLUMNS);
}

async function secretByName(sql: Sql, accountId: string, region: string, name: string): Promise<SecretRecord | undefined> {
  const row = await sql.one('SELECT * FROM secrets WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name]);
  return row && secretFromRow(row, BOOLEAN_COLUMNS);
}

async function secretVersion(sql: Sql, secretArn: string, versionId: string): Promise<SecretVersionRecord | undefined> {
  const row = await sql.one(`SELECT v.*, ${STAGES_OF_VERSION} FROM secret_versions v WHERE v.secret_arn = $1 AND v.version_id = $2`, [secretArn, versionId]);
  return row && versionFromRow(row, row.stages);
}

/** One statement for all the secrets, not one per secret. */
async function tagsOf(sql: Sql, secretArns: string[]): Promise<Map<string, Tag[]>> {
  const rows = await sql.rows('SELECT secret_arn, tag_key, tag_value FROM secret_tags WHERE secret_arn = ANY($1::text[]) ORDER BY secret_arn, tag_key', [secretArns]);
  const tags = new Map<string, Tag[]>();
  for (const [arn, group] of groupBy(rows)) tags.set(arn, group.map((row) => ({ TagKey: row.tag_key, TagValue: row.tag_value })));
  return tags;
}

async function versionStages(sql: Sql, secretArns: string[]): Promise<Record<string, Record<string, string[]>>> {
  const rows = await sql.rows('SELECT secret_arn, version_id, stage FROM secret_version_stages WHERE secret_arn = ANY($1::text[]) ORDER BY secret_arn, stage', [secretArns]);
  const grouped = groupBy(rows);
  const result: Record<string, Record<string, string[]>> = {};
  for (const arn of secretArns) result[arn] = stagesByVersion(grouped.get(arn) ?? []);
  return result;
}

/** Reads the labels, asks the planner, applies its moves and prunes. Runs inside the caller's transaction. */
async function applyPlan(sql: Sql, secretArn: string, planner: LabelPlanner, lastChangedDate: Date): Promise<void> {
  const plan = planner(await versionLabels(sql, secretArn));
  for (const { stage, versionId } of plan.moves) {
    if (versionId === null) await sql.run('DELETE FROM secret_version_stages WHERE secret_arn = $1 AND stage = $2', [secretArn, stage]);
    else await setStage(sql, secretArn, stage, versionId);
  }
  for (const versionId of plan.deleteVersions) {
    await sql.run('DELETE FROM secret_versions WHERE secret_arn = $1 AND version_id = $2', [secretArn, versionId]);
  }
  await sql.run('UPDATE secrets SET last_changed_date = $1 WHERE arn = $2', [lastChangedDate.getTime(), secretArn]);
}

async function versionLabels(sql: Sql, secretArn: string): Promise<VersionLabels[]> {
  const rows = await sql.rows(`SELECT v.version_id, v.created_date, ${STAGES_OF_VERSION} FROM secret_versions v WHERE v.secret_arn = $1 ORDER BY created_date, position`, [secretArn]);
  return rows.map((row) => ({ versionId: row.version_id, createdDate: new Date(row.created_date), stages: row.stages }));
}

async function fillPlaceholder(sql: Sql, version: Omit<SecretVersionRecord, 'stages'>): Promise<void> {
  await sql.run(
    'UPDATE secret_versions SET data_keys = $1, sealed_value = $2, value_type = $3, created_date = $4 WHERE secret_arn = $5 AND version_id = $6 AND sealed_value IS NULL',
    [encodeDataKeys(version.dataKeys), version.sealedValue ?? null, version.valueType, version.createdDate.getTime(), version.secretArn, version.versionId],
  );
}

async function setStage(sql: Sql, secretArn: string, stage: string, versionId: string): Promise<void> {
  await sql.run(
    'INSERT INTO secret_version_stages (secret_arn, stage, version_id) VALUES ($1, $2, $3) ON CONFLICT (secret_arn, stage) DO UPDATE SET version_id = excluded.version_id',
    [secretArn, stage, versionId],
  );
}

/** The version takes the next position among its secret's versions (see the 'secrets' migration). */
async function insertVersion(sql: Sql, version: Omit<SecretVersionRecord, 'stages'>): Promise<void> {
  await sql.run(
    `INSERT INTO secret_versions (secret_arn, version_id, position, data_keys, sealed_value, value_type, created_date, last_accessed_date)
     SELECT $1, $2, coalesce(max(position), 0) + 1, $3, $4, $5, $6, $7 FROM secret_versions WHERE secret_arn = $1`,
    [
      version.secretArn, version.versionId, encodeDataKeys(version.dataKeys), version.sealedValue ?? null,
      version.valueType, version.createdDate.getTime(), version.lastAccessedDate?.getTime() ?? null,
    ],
  );
}

async function upsertTags(sql: Sql, arn: string, tags: Tag[]): Promise<void> {
  for (const tag of tags) {
    await sql.run(
      'INSERT INTO secret_tags (secret_arn, tag_key, tag_value) VALUES ($1, $2, $3) ON CONFLICT (secret_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value',
      [arn, tag.TagKey, tag.TagValue],
    );
  }
}

async function destroy(sql: Sql, arn: string): Promise<boolean> {
  // Stages reference versions; delete them first so the cascade order never matters.
  await sql.run('DELETE FROM secret_version_stages WHERE secret_arn = $1', [arn]);
  return (await sql.run('DELETE FROM secrets WHERE arn = $1', [arn])) === 1;
}

async function failSync(sql: Sql, primaryArn: string, region: string, generation: number, message: string): Promise<void> {
  await sql.run("UPDATE secret_replicas SET status = 'Failed', status_message = $1 WHERE primary_arn = $2 AND region = $3 AND generation = $4", [
    message, primaryArn, region, generation,
  ]);
}

/** SecretsRepository.applyReplicaSync, inside its transaction (the SQL of SqliteSecretTables.applyReplicaSync). */
async function applySync(sql: Sql, primaryArn: string, region: string, generation: number, state: ReplicaState, nameTakenMessage: string): Promise<ReplicaSyncOutcome> {
  const row = await sql.one('SELECT generation, force_overwrite, kms_key_id FROM secret_replicas WHERE primary_arn = $1 AND region = $2', [primaryArn, region]);
  if (!row || Number(row.generation) !== generation) return 'stale';
  // The key as the row names it now (UpdateSecret on the replica may have changed it since the state was read).
  const replica = { ...state.secret, kmsKeyId: (row.kms_key_id as string | null) ?? undefined };
  const holder = await secretByName(sql, replica.accountId, replica.region, replica.name);
  const ours = holder !== undefined && holder.arn === replica.arn && holder.primaryRegion === replica.primaryRegion && holder.primaryRegion !== holder.region;
  if (holder && !ours) {
    if (row.force_overwrite !== true) {
      await failSync(sql, primaryArn, region, generation, nameTakenMessage);
      return 'name-taken';
    }
    await destroy(sql, holder.arn);
  }
  if (!ours) {
    await sql.run(
      `INSERT INTO secrets (arn, account_id, region, name, list_position, description, kms_key_id, created_date, last_changed_date, primary_region, resource_policy)
       SELECT $1, $2, $3, $4, coalesce(max(list_position), 0) + 1, $5, $6, $7, $8, $9, $10 FROM secrets WHERE account_id = $2 AND region = $3`,
      [
        replica.arn, replica.accountId, replica.region, replica.name, replica.description ?? null, replica.kmsKeyId ?? null,
        replica.createdDate.getTime(), replica.lastChangedDate.getTime(), replica.primaryRegion, replica.resourcePolicy ?? null,
      ],
    );
  } else {
    await sql.run('UPDATE secrets SET description = $1, kms_key_id = $2, last_changed_date = $3, resource_policy = $4 WHERE arn = $5', [
      replica.description ?? null, replica.kmsKeyId ?? null, replica.lastChangedDate.getTime(), replica.resourcePolicy ?? null, replica.arn,
    ]);
  }
  await sql.run('DELETE FROM secret_tags WHERE secret_arn = $1', [replica.arn]);
  await upsertTags(sql, replica.arn, state.tags);
  const held = new Map(
    (await sql.rows('SELECT version_id, sealed_value IS NOT NULL AS has_value FROM secret_versions WHERE secret_arn = $1', [replica.arn])).map((version) => [
      version.version_id as string,
      version.has_value === true,
    ]),
  );
  await sql.run('DELETE FROM secret_version_stages WHERE secret_arn = $1', [replica.arn]);
  const plan = planReplicaVersions(replica.arn, state, held);
  for (const versionId of plan.remove) await sql.run('DELETE FROM secret_versions WHERE secret_arn = $1 AND version_id = $2', [replica.arn, versionId]);
  for (const version of plan.insert) await insertVersion(sql, version);
  for (const version of plan.fill) await fillPlaceholder(sql, version);
  for (const { stage, versionId } of plan.stages) await setStage(sql, replica.arn, stage, versionId);
  await sql.run("UPDATE secret_replicas SET status = 'InSync', status_message = NULL WHERE primary_arn = $1 AND region = $2", [primaryArn, region]);
  return 'applied';
}
