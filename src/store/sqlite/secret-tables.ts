import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type {
  LabelHolders,
  LabelPlanner,
  SecretPatch,
  SecretAccessRecord,
  SecretRecord,
  SecretVersionRecord,
  PagedSecret,
  ReplicaState,
  ReplicaSyncOutcome,
  SecretPageRequest,
  SecretReplicaRecord,
  SecretSort,
  Tag,
  VersionDataKey,
  VersionLabels,
} from '../records.js';
import { planReplicaVersions, StaleReplicaState } from '../replica-sync.js';
import { decodeDataKeys, encodeDataKeys, groupBy, REPLICA_SELECT, replicaFromRow, SECRET_COLUMNS, secretFromRow, stagesByVersion, versionFromRow } from '../rows/secrets.js';
import { BOOLEAN_COLUMNS, patchAssignments } from './sql-values.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/**
 * What each ListSecrets order sorts on; each has an index on (account_id, region, <expression>) (migration 8),
 * whose entries end in the rowid, so a page is one range scan. A never-accessed secret sorts as -1: first
 * ascending and last descending, where SQLite puts NULL, and never NULL, so a cursor is always a value.
 */
const SORT_EXPRESSIONS: Record<SecretSort, string> = {
  'created-date': 'created_date',
  'last-accessed-date': 'ifnull(last_accessed_date, -1)',
  'last-changed-date': 'last_changed_date',
  name: 'name',
};

/**
 * A version's stages as a JSON array, in the same statement as the version (`v`): one statement per version read
 * instead of two, on GetSecretValue's path. Unsorted: they are sorted in JS (`stagesOf`), since an ORDER BY here
 * made SQLite prepare the statement again at every run (see `inByteOrder`).
 */
const STAGES_OF_VERSION = `(SELECT json_group_array(stage) FROM secret_version_stages s
    WHERE s.secret_arn = v.secret_arn AND s.version_id = v.version_id) AS stages`;

/**
 * A bound parameter the query planner cannot read. In this SQLite (3.54, STAT4), `account_id = ?` and
 * `region = ?` in front of an index that also serves the ORDER BY, and a bound `LIMIT ?`, make the planner look
 * at the bound value, so every new binding expires the statement and the next run prepares it again; and
 * better-sqlite3 then compiles a new row-building function (`Function(...)`, its bytecode in V8's old
 * generation) for the statement's columns. Measured on a ListSecrets page (100 rows): prepared again at every
 * run, 194–237 µs of CPU; with `+?` on those three, prepared once, 133–171 µs. Unary plus is a no-op on any
 * value, adds no affinity a bare parameter had, and leaves the index usable (the plan is the same).
 */
const UNREAD_BINDING = '+?';

/**
 * A listed secret's labels and tags in the page's own statement, as JSON text of [version, label] and [key, value]
 * pairs (NULL when it has none): two statements fewer per page, no JSON list of the page's ARNs to bind, and no
 * row object (with its own copy of the secret's ARN) per label and per tag. Pairs, not an object keyed by version
 * id, so SQLite needs no GROUP BY; the pairs come in key order (each table's primary key starts with the ARN) and
 * are sorted again in JS all the same, as an ORDER BY would (see `inByteOrder`).
 */
const LISTED_LABELS = `(SELECT nullif(json_group_array(json_array(s.version_id, s.stage)), '[]') FROM secret_version_stages s
    WHERE s.secret_arn = secrets.arn) AS listed_labels`;
const LISTED_TAGS = `(SELECT nullif(json_group_array(json_array(t.tag_key, t.tag_value)), '[]') FROM secret_tags t
    WHERE t.secret_arn = secrets.arn) AS listed_tags`;

/**
 * The Secrets Manager half of the SQLite store. Label changes run inside one synchronous transaction:
 * read the labels, let the pure planner decide, apply. SQLite serialises writers, so no two writers can
 * interleave between the read and the write.
 */
export class SqliteSecretTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  createSecret(secret: SecretRecord, tags: Tag[], firstVersion?: Omit<SecretVersionRecord, 'stages'>) {
    return this.#db.transaction((): { created: true } | { created: false; existing: SecretRecord } => {
      const inserted = this.#stmt(
        `INSERT INTO secrets (arn, account_id, region, name, description, kms_key_id, created_date, last_changed_date,
           last_accessed_date, deleted_date, scheduled_deletion_date, owning_service, primary_region)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ).run(
        secret.arn, secret.accountId, secret.region, secret.name, secret.description ?? null, secret.kmsKeyId ?? null,
        secret.createdDate.getTime(), secret.lastChangedDate.getTime(), secret.lastAccessedDate?.getTime() ?? null,
        secret.deletedDate?.getTime() ?? null, secret.scheduledDeletionDate?.getTime() ?? null,
        secret.owningService ?? null, secret.primaryRegion,
      );
      if (inserted.changes === 0) {
        const existing = this.getSecretByName(secret.accountId, secret.region, secret.name);
        if (!existing) throw new Error(`secret ARN collision: ${secret.arn}`);
        return { created: false, existing };
      }
      this.#upsertTags(secret.arn, tags);
      if (firstVersion) {
        this.#insertVersion(firstVersion);
        this.#setStage(secret.arn, 'AWSCURRENT', firstVersion.versionId);
      }
      return { created: true };
    })();
  }

  getSecretByArn(arn: string): SecretRecord | undefined {
    const row = this.#stmt('SELECT * FROM secrets WHERE arn = ?').get(arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  getSecretByName(accountId: string, region: string, name: string): SecretRecord | undefined {
    const row = this.#stmt('SELECT * FROM secrets WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  /**
   * After a cursor (v, p), two statements that each seek in the order's index: the rest of v's ties (position
   * beyond p), then, if the page is not full, the rows beyond v. One statement for both (`expr >= v AND (expr > v
   * OR rowid > p)`) read every tie before p to skip it: by last-accessed date (kept to the day) all 100,000
   * secrets of the probe tie, and a chunk 90,000 deep cost 135 ms against 0.5. The cursor's values are bound
   * unread too (UNREAD_BINDING): the ties' statement ran in 36–52 µs with plain `?`, 10–13 with `+?`, same plan.
   */
  listSecretPage(accountId: string, region: string, page: SecretPageRequest): PagedSecret[] {
    const sortExpression = SORT_EXPRESSIONS[page.sortBy];
    const direction = page.descending ? 'DESC' : 'ASC';
    const beyond = page.descending ? '<' : '>';
    if (!page.after) return this.#pageRows(accountId, region, page, { condition: '', values: [], orderBy: `${sortExpression} ${direction}, rowid ${direction}`, offset: page.offset ?? 0, limit: page.limit });
    const { sortValue, position } = page.after;
    const tied = this.#pageRows(accountId, region, page, { condition: `AND ${sortExpression} = ${UNREAD_BINDING} AND rowid ${beyond} ${UNREAD_BINDING}`, values: [sortValue, position], orderBy: `rowid ${direction}`, offset: 0, limit: page.limit });
    if (tied.length === page.limit) return tied;
    const rest = this.#pageRows(accountId, region, page, { condition: `AND ${sortExpression} ${beyond} ${UNREAD_BINDING}`, values: [sortValue], orderBy: `${sortExpression} ${direction}, rowid ${direction}`, offset: 0, limit: page.limit - tied.length });
    return tied.length === 0 ? rest : tied.concat(rest);
  }

  /** One statement of a list page: the visible secrets of the account and region past `condition`, in `orderBy`. */
  #pageRows(
    accountId: string,
    region: string,
    page: SecretPageRequest,
    part: { condition: string; values: Array<number | string>; orderBy: string; offset: number; limit: number },
  ): PagedSecret[] {
    // Expressions and directions come from the fixed tables above only; rowid breaks ties in the order written.
    // `+?` (SQLite's no-op unary plus) where the planner would otherwise read the bound value: see UNREAD_BINDING.
    const labels = page.labels === false ? 'NULL AS listed_labels' : LISTED_LABELS;
    const sql = `SELECT rowid AS list_position, ${SORT_EXPRESSIONS[page.sortBy]} AS list_sort_value, *, ${labels}, ${LISTED_TAGS} FROM secrets
      WHERE account_id = ${UNREAD_BINDING} AND region = ${UNREAD_BINDING}
        AND (scheduled_deletion_date IS NULL OR scheduled_deletion_date > ?)
        ${page.includeDeleted ? '' : 'AND deleted_date IS NULL'}
        ${part.condition}
      ORDER BY ${part.orderBy} LIMIT ${UNREAD_BINDING} OFFSET ?`;
    const rows = this.#stmt(sql).all(accountId, region, page.now.getTime(), ...part.values, part.limit, part.offset) as Row[];
    // Added to the fresh record rather than spread into a copy: a page is 100 of them.
    return rows.map((row) =>
      Object.assign(secretFromRow(row, BOOLEAN_COLUMNS), {
        tags: listedTags(row.listed_tags),
        versionStages: listedLabels(row.listed_labels),
        cursor: { sortValue: row.list_sort_value, position: row.list_position },
      }),
    );
  }

  listSecrets(accountId: string, region: string): Array<SecretRecord & { tags: Tag[] }> {
    const secrets = (
      this.#stmt(`SELECT * FROM secrets WHERE account_id = ${UNREAD_BINDING} AND region = ${UNREAD_BINDING} ORDER BY created_date, rowid`).all(accountId, region) as Row[]
    ).map((row) => secretFromRow(row, BOOLEAN_COLUMNS));
    const tags = groupBy(
      this.#stmt('SELECT t.secret_arn, t.tag_key, t.tag_value FROM secret_tags t JOIN secrets s ON s.arn = t.secret_arn WHERE s.account_id = ? AND s.region = ? ORDER BY t.tag_key').all(accountId, region) as Row[],
    );
    return secrets.map((secret) => ({ ...secret, tags: (tags.get(secret.arn) ?? []).map(tagFromRow) }));
  }

  /** One statement for all the secrets (their ARNs as a JSON array), not one per secret. */
  listVersionStages(secretArns: string[]): Record<string, Record<string, string[]>> {
    const stages = this.#stagesOf(secretArns);
    const result: Record<string, Record<string, string[]>> = {};
    for (const arn of secretArns) result[arn] = stages.get(arn) ?? {};
    return result;
  }

  /**
   * By ARN in a Map, for a ListSecrets page: an object keyed by 100 ARNs is a dictionary whose keys V8 interns
   * (copies into its string table, in the old generation), which a page does not need.
   */
  #stagesOf(secretArns: string[]): Map<string, Record<string, string[]>> {
    const rows = this.#stmt(
      'SELECT secret_arn, version_id, stage FROM secret_version_stages WHERE secret_arn IN (SELECT value FROM json_each(?)) ORDER BY secret_arn, stage',
    ).all(JSON.stringify(secretArns)) as Row[];
    const stages = new Map<string, Record<string, string[]>>();
    for (const [arn, group] of groupBy(rows)) stages.set(arn, stagesByVersion(group));
    return stages;
  }

  rewrapSecretVersions(secretArn: string, dataKeys: Array<{ versionId: string; dataKey: VersionDataKey }>, patch: SecretPatch) {
    return this.#db.transaction(() => {
      for (const { versionId, dataKey } of dataKeys) {
        const current = this.#stmt('SELECT data_keys FROM secret_versions WHERE secret_arn = ? AND version_id = ?').pluck().get(secretArn, versionId) as string | undefined;
        // A version pruned meanwhile has nothing left to re-encrypt.
        if (current === undefined) continue;
        const updated = [dataKey, ...decodeDataKeys(current)];
        this.#stmt('UPDATE secret_versions SET data_keys = ? WHERE secret_arn = ? AND version_id = ?').run(encodeDataKeys(updated), secretArn, versionId);
      }
      return this.#patchSecret(secretArn, patch);
    })();
  }

  #patchSecret(arn: string, patch: SecretPatch): SecretRecord | undefined {
    const { assignments, values } = patchAssignments(patch, SECRET_COLUMNS);
    if (assignments.length === 0) return this.getSecretByArn(arn);
    const row = this.#stmt(`UPDATE secrets SET ${assignments.join(', ')} WHERE arn = ? RETURNING *`).get(...values, arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  markSecretDeleted(arn: string, deletedDate: Date, scheduledDeletionDate: Date): SecretRecord | undefined {
    const row = this.#stmt(
      `UPDATE secrets SET deleted_date = ?, scheduled_deletion_date = ? WHERE arn = ? AND deleted_date IS NULL
         AND NOT EXISTS (SELECT 1 FROM secret_replicas r WHERE r.primary_arn = secrets.arn) RETURNING *`,
    ).get(deletedDate.getTime(), scheduledDeletionDate.getTime(), arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  /** Sets (or, with undefined, removes) the secret's resource policy; undefined when the secret is gone. */
  setSecretResourcePolicy(arn: string, policy: string | undefined): SecretRecord | undefined {
    const row = this.#stmt('UPDATE secrets SET resource_policy = ? WHERE arn = ? RETURNING *').get(policy ?? null, arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  restoreSecret(arn: string): SecretRecord | undefined {
    const row = this.#stmt('UPDATE secrets SET deleted_date = NULL, scheduled_deletion_date = NULL WHERE arn = ? RETURNING *').get(arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  destroySecret(arn: string): boolean {
    return this.#db.transaction(() => {
      if (this.#stmt('SELECT 1 FROM secret_replicas WHERE primary_arn = ? LIMIT 1').get(arn)) return false;
      // Stages reference versions; delete them first so the cascade order never matters.
      this.#stmt('DELETE FROM secret_version_stages WHERE secret_arn = ?').run(arn);
      return this.#stmt('DELETE FROM secrets WHERE arn = ?').run(arn).changes === 1;
    })();
  }

  listSecretsDueForDeletion(now: Date, limit: number): SecretRecord[] {
    const rows = this.#stmt('SELECT * FROM secrets WHERE scheduled_deletion_date <= ? ORDER BY scheduled_deletion_date LIMIT ?').all(now.getTime(), limit) as Row[];
    return rows.map((row) => secretFromRow(row, BOOLEAN_COLUMNS));
  }

  recordSecretAccesses(accesses: readonly SecretAccessRecord[]): void {
    this.#db.transaction(() => {
      for (const { arn, versionId, accessedDate } of accesses) {
        const ms = accessedDate.getTime();
        // Writes only when the date changes (it is kept to the day).
        this.#stmt('UPDATE secrets SET last_accessed_date = ? WHERE arn = ? AND (last_accessed_date IS NULL OR last_accessed_date <> ?)').run(ms, arn, ms);
        this.#stmt('UPDATE secret_versions SET last_accessed_date = ? WHERE secret_arn = ? AND version_id = ? AND (last_accessed_date IS NULL OR last_accessed_date <> ?)').run(ms, arn, versionId, ms);
      }
    })();
  }

  /**
   * PutSecretValue's writes, made in the caller's transaction (the group commit's, group-commit.ts), which is
   * rolled back whole if this throws: not atomic on its own, and without a savepoint of its own (issue 21).
   */
  putSecretVersionInTransaction(
    version: Omit<SecretVersionRecord, 'stages'>,
    planner: LabelPlanner,
    lastChangedDate: Date,
  ): { inserted: true } | { inserted: false; existing: SecretVersionRecord } {
    if (!this.#db.inTransaction) throw new Error('putSecretVersionInTransaction runs inside a transaction');
    // Insert first and read only on a conflict (a retry, or a rotation's placeholder): one statement less on
    // every write than reading ahead (issue 21).
    if (!this.#insertVersionIfAbsent(version)) {
      const existing = this.getSecretVersion(version.secretArn, version.versionId)!;
      if (existing.sealedValue || !version.sealedValue) return { inserted: false, existing };
      this.#fillPlaceholder(version);
    }
    this.#applyPlan(version.secretArn, planner, lastChangedDate);
    return { inserted: true };
  }

  updateSecretLabels(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): void {
    this.#db.transaction(() => this.#applyPlan(secretArn, planner, lastChangedDate))();
  }

  getSecretVersion(secretArn: string, versionId: string): SecretVersionRecord | undefined {
    const row = this.#stmt(`SELECT v.*, ${STAGES_OF_VERSION} FROM secret_versions v WHERE v.secret_arn = ? AND v.version_id = ?`).get(secretArn, versionId) as Row | undefined;
    return row && versionFromRow(row, stagesOf(row));
  }

  getSecretVersionByStage(secretArn: string, stage: string): SecretVersionRecord | undefined {
    // The label's version as a subquery, not a join: SQLite prepared the join again at every run (28.7 against
    // 4.2 µs per read, bench/RESULTS.md), and this is GetSecretValue's read on a read-cache miss.
    const row = this.#stmt(
      `SELECT v.*, ${STAGES_OF_VERSION} FROM secret_versions v
       WHERE v.secret_arn = ? AND v.version_id = (SELECT version_id FROM secret_version_stages WHERE secret_arn = ? AND stage = ?)`,
    ).get(secretArn, secretArn, stage) as Row | undefined;
    return row && versionFromRow(row, stagesOf(row));
  }

  listSecretVersions(secretArn: string): SecretVersionRecord[] {
    const rows = this.#stmt('SELECT * FROM secret_versions WHERE secret_arn = ? ORDER BY created_date DESC, rowid DESC').all(secretArn) as Row[];
    const stages = stagesByVersion(this.#stagesOfSecret(secretArn));
    return rows.map((row) => versionFromRow(row, stages[row.version_id] ?? []));
  }

  putSecretTags(arn: string, tags: Tag[]): void {
    this.#db.transaction(() => this.#upsertTags(arn, tags))();
  }

  removeSecretTags(arn: string, tagKeys: string[]): void {
    const remove = this.#stmt('DELETE FROM secret_tags WHERE secret_arn = ? AND tag_key = ?');
    this.#db.transaction(() => {
      for (const tagKey of tagKeys) remove.run(arn, tagKey);
    })();
  }

  listSecretTags(arn: string): Tag[] {
    const rows = this.#stmt('SELECT tag_key, tag_value FROM secret_tags WHERE secret_arn = ? ORDER BY tag_key').all(arn) as Row[];
    return rows.map((row) => ({ TagKey: row.tag_key, TagValue: row.tag_value }));
  }

  addSecretReplicas(primaryArn: string, replicas: Array<Pick<SecretReplicaRecord, 'region' | 'replicaArn' | 'kmsKeyId' | 'forceOverwrite'>>): string[] {
    return this.#db.transaction(() => {
      const added: string[] = [];
      for (const replica of replicas) {
        const inserted = this.#stmt(
          `INSERT INTO secret_replicas (primary_arn, region, replica_arn, kms_key_id, status, force_overwrite, generation)
           SELECT ?, ?, ?, ?, 'InProgress', ?, 0 WHERE EXISTS (SELECT 1 FROM secrets WHERE arn = ? AND deleted_date IS NULL)
           ON CONFLICT DO NOTHING`,
        ).run(primaryArn, replica.region, replica.replicaArn, replica.kmsKeyId ?? null, replica.forceOverwrite ? 1 : 0, primaryArn);
        if (inserted.changes === 1) added.push(replica.region);
      }
      return added;
    })();
  }

  listSecretReplicas(primaryArns: string[]): Record<string, SecretReplicaRecord[]> {
    const rows = (
      primaryArns.length === 1
        ? this.#replicasOf(primaryArns[0]!)
        : this.#stmt(`${REPLICA_SELECT} WHERE r.primary_arn IN (SELECT value FROM json_each(?)) ORDER BY r.primary_arn, r.region`).all(JSON.stringify(primaryArns))
    ) as Row[];
    const result: Record<string, SecretReplicaRecord[]> = {};
    for (const arn of primaryArns) result[arn] = [];
    for (const row of rows) result[row.primary_arn]!.push(replicaFromRow(row, BOOLEAN_COLUMNS));
    return result;
  }

  /**
   * One secret's replica rows, as REPLICA_SELECT gives them: every write to a primary asks for them after it, and
   * most secrets have none. So no join and no ORDER BY, either of which makes this SQLite prepare the statement
   * again at every run (see `inByteOrder`): the replica's last access is read per row found.
   */
  #replicasOf(primaryArn: string): Row[] {
    const rows = this.#stmt('SELECT * FROM secret_replicas WHERE primary_arn = ?').all(primaryArn) as Row[];
    const lastAccessed = this.#stmt('SELECT last_accessed_date FROM secrets WHERE arn = ? AND primary_region <> region').pluck();
    for (const row of rows) row.replica_last_accessed_date = lastAccessed.get(row.replica_arn) ?? null;
    return inByteOrder(rows, 'region');
  }

  listSecretReplicasToSync(limit: number): SecretReplicaRecord[] {
    const rows = this.#stmt(`${REPLICA_SELECT} WHERE r.status <> 'InSync' ORDER BY r.generation LIMIT ?`).all(limit) as Row[];
    return rows.map((row) => replicaFromRow(row, BOOLEAN_COLUMNS));
  }

  beginReplicaSync(primaryArn: string, region: string): number | undefined {
    const generation = this.#stmt(
      "UPDATE secret_replicas SET generation = generation + 1, status = 'InProgress' WHERE primary_arn = ? AND region = ? RETURNING generation",
    ).pluck().get(primaryArn, region) as number | undefined;
    return generation;
  }

  failReplicaSync(primaryArn: string, region: string, generation: number, message: string): void {
    this.#stmt("UPDATE secret_replicas SET status = 'Failed', status_message = ? WHERE primary_arn = ? AND region = ? AND generation = ?").run(message, primaryArn, region, generation);
  }

  applyReplicaSync(primaryArn: string, region: string, generation: number, state: ReplicaState, nameTakenMessage: string): ReplicaSyncOutcome {
    try {
      return this.#applyReplicaSync(primaryArn, region, generation, state, nameTakenMessage);
    } catch (error) {
      if (error instanceof StaleReplicaState) return 'stale';
      throw error;
    }
  }

  #applyReplicaSync(primaryArn: string, region: string, generation: number, state: ReplicaState, nameTakenMessage: string): ReplicaSyncOutcome {
    return this.#db.transaction((): ReplicaSyncOutcome => {
      const row = this.#stmt('SELECT generation, force_overwrite, kms_key_id FROM secret_replicas WHERE primary_arn = ? AND region = ?').get(primaryArn, region) as Row | undefined;
      if (!row || row.generation !== generation) return 'stale';
      // The key as the row names it now (UpdateSecret on the replica may have changed it since the state was read).
      const replica = { ...state.secret, kmsKeyId: (row.kms_key_id as string | null) ?? undefined };
      const holder = this.getSecretByName(replica.accountId, replica.region, replica.name);
      const ours = holder !== undefined && holder.arn === replica.arn && holder.primaryRegion === replica.primaryRegion && holder.primaryRegion !== holder.region;
      if (holder && !ours) {
        if (row.force_overwrite !== 1) {
          this.failReplicaSync(primaryArn, region, generation, nameTakenMessage);
          return 'name-taken';
        }
        this.destroySecret(holder.arn);
      }
      if (!ours) {
        this.#stmt(
          `INSERT INTO secrets (arn, account_id, region, name, description, kms_key_id, created_date, last_changed_date, primary_region, resource_policy)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          replica.arn, replica.accountId, replica.region, replica.name, replica.description ?? null, replica.kmsKeyId ?? null,
          replica.createdDate.getTime(), replica.lastChangedDate.getTime(), replica.primaryRegion, replica.resourcePolicy ?? null,
        );
      } else {
        this.#stmt('UPDATE secrets SET description = ?, kms_key_id = ?, last_changed_date = ?, resource_policy = ? WHERE arn = ?').run(
          replica.description ?? null, replica.kmsKeyId ?? null, replica.lastChangedDate.getTime(), replica.resourcePolicy ?? null, replica.arn,
        );
      }
      this.#stmt('DELETE FROM secret_tags WHERE secret_arn = ?').run(replica.arn);
      this.#upsertTags(replica.arn, state.tags);
      const held = new Map(
        (this.#stmt('SELECT version_id, sealed_value IS NOT NULL AS has_value FROM secret_versions WHERE secret_arn = ?').all(replica.arn) as Row[]).map((version) => [
          version.version_id as string,
          version.has_value === 1,
        ]),
      );
      this.#stmt('DELETE FROM secret_version_stages WHERE secret_arn = ?').run(replica.arn);
      const plan = planReplicaVersions(replica.arn, state, held);
      for (const versionId of plan.remove) this.#stmt('DELETE FROM secret_versions WHERE secret_arn = ? AND version_id = ?').run(replica.arn, versionId);
      for (const version of plan.insert) this.#insertVersion(version);
      for (const version of plan.fill) this.#fillPlaceholder(version);
      for (const { stage, versionId } of plan.stages) this.#setStage(replica.arn, stage, versionId);
      this.#stmt("UPDATE secret_replicas SET status = 'InSync', status_message = NULL WHERE primary_arn = ? AND region = ?").run(primaryArn, region);
      return 'applied';
    })();
  }

  setReplicaKmsKey(primaryArn: string, region: string, kmsKeyId: string | undefined): boolean {
    return this.#stmt('UPDATE secret_replicas SET kms_key_id = ? WHERE primary_arn = ? AND region = ?').run(kmsKeyId ?? null, primaryArn, region).changes === 1;
  }

  removeSecretReplicas(primaryArn: string, regions: string[]): void {
    this.#db.transaction(() => {
      for (const region of regions) {
        const replicaArn = this.#stmt('DELETE FROM secret_replicas WHERE primary_arn = ? AND region = ? RETURNING replica_arn').pluck().get(primaryArn, region) as string | undefined;
        // Only while it is still this primary's replica: a promoted secret is nobody's to delete.
        const replica = replicaArn === undefined ? undefined : this.getSecretByArn(replicaArn);
        if (replica && replica.primaryRegion !== replica.region) this.destroySecret(replica.arn);
      }
    })();
  }

  promoteReplicaSecret(replicaArn: string, primaryArn: string): SecretRecord | undefined {
    return this.#db.transaction(() => {
      const row = this.#stmt('UPDATE secrets SET primary_region = region WHERE arn = ? AND primary_region <> region RETURNING *').get(replicaArn) as Row | undefined;
      if (!row) return undefined;
      this.#stmt('DELETE FROM secret_replicas WHERE primary_arn = ? AND replica_arn = ?').run(primaryArn, replicaArn);
      return secretFromRow(row, BOOLEAN_COLUMNS);
    })();
  }

  /**
   * Reads the labels, asks the planner, applies its moves and prunes. Runs inside the caller's transaction. A
   * planner that can plan from the label holders is asked that first: two small reads instead of every version.
   */
  #applyPlan(secretArn: string, planner: LabelPlanner, lastChangedDate: Date): void {
    const plan = (planner.fromHolders && planner.fromHolders(this.#labelHolders(secretArn))) ?? planner(this.#versionLabels(secretArn));
    for (const { stage, versionId } of plan.moves) {
      if (versionId === null) this.#stmt('DELETE FROM secret_version_stages WHERE secret_arn = ? AND stage = ?').run(secretArn, stage);
      else this.#setStage(secretArn, stage, versionId);
    }
    for (const versionId of plan.deleteVersions) {
      this.#stmt('DELETE FROM secret_versions WHERE secret_arn = ? AND version_id = ?').run(secretArn, versionId);
    }
    this.#stmt('UPDATE secrets SET last_changed_date = ? WHERE arn = ?').run(lastChangedDate.getTime(), secretArn);
  }

  #fillPlaceholder(version: Omit<SecretVersionRecord, 'stages'>): void {
    this.#stmt('UPDATE secret_versions SET data_keys = ?, sealed_value = ?, value_type = ?, created_date = ? WHERE secret_arn = ? AND version_id = ? AND sealed_value IS NULL').run(
      encodeDataKeys(version.dataKeys), version.sealedValue ?? null, version.valueType, version.createdDate.getTime(), version.secretArn, version.versionId,
    );
  }

  #labelHolders(secretArn: string): LabelHolders {
    const stages = stagesByVersion(this.#stagesOfSecret(secretArn));
    const versionCount = this.#stmt('SELECT count(*) FROM secret_versions WHERE secret_arn = ?').pluck().get(secretArn) as number;
    return { labeled: Object.entries(stages).map(([versionId, held]) => ({ versionId, stages: held })), versionCount };
  }

  #versionLabels(secretArn: string): VersionLabels[] {
    const stages = stagesByVersion(this.#stagesOfSecret(secretArn));
    const rows = this.#stmt('SELECT version_id, created_date FROM secret_versions WHERE secret_arn = ? ORDER BY created_date, rowid').all(secretArn) as Row[];
    return rows.map((row) => ({ versionId: row.version_id, createdDate: new Date(row.created_date), stages: stages[row.version_id] ?? [] }));
  }

  /** The secret's (version_id, stage) rows in stage order, sorted here: see `inByteOrder`. */
  #stagesOfSecret(secretArn: string): Row[] {
    return inByteOrder(this.#stmt('SELECT version_id, stage FROM secret_version_stages WHERE secret_arn = ?').all(secretArn) as Row[], 'stage');
  }

  #setStage(secretArn: string, stage: string, versionId: string): void {
    this.#stmt(
      'INSERT INTO secret_version_stages (secret_arn, stage, version_id) VALUES (?, ?, ?) ON CONFLICT (secret_arn, stage) DO UPDATE SET version_id = excluded.version_id',
    ).run(secretArn, stage, versionId);
  }

  #insertVersion(version: Omit<SecretVersionRecord, 'stages'>): void {
    this.#stmt(
      `INSERT INTO secret_versions (secret_arn, version_id, data_keys, sealed_value, value_type, created_date, last_accessed_date)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      version.secretArn, version.versionId, encodeDataKeys(version.dataKeys), version.sealedValue ?? null,
      version.valueType, version.createdDate.getTime(), version.lastAccessedDate?.getTime() ?? null,
    );
  }

  /** PutSecretValue's insert: false when the version exists already (the caller reads it then). */
  #insertVersionIfAbsent(version: Omit<SecretVersionRecord, 'stages'>): boolean {
    return this.#stmt(
      `INSERT INTO secret_versions (secret_arn, version_id, data_keys, sealed_value, value_type, created_date, last_accessed_date)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (secret_arn, version_id) DO NOTHING`,
    ).run(
      version.secretArn, version.versionId, encodeDataKeys(version.dataKeys), version.sealedValue ?? null,
      version.valueType, version.createdDate.getTime(), version.lastAccessedDate?.getTime() ?? null,
    ).changes === 1;
  }

  #upsertTags(arn: string, tags: Tag[]): void {
    const upsert = this.#stmt(
      'INSERT INTO secret_tags (secret_arn, tag_key, tag_value) VALUES (?, ?, ?) ON CONFLICT (secret_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value',
    );
    for (const tag of tags) upsert.run(arn, tag.TagKey, tag.TagValue);
  }
}

/**
 * Rows sorted by a text column as SQLite's ORDER BY would (BINARY: UTF-8 bytes), for the statements a put runs:
 * in this SQLite (3.54, STAT4), a statement with a bound parameter and an ORDER BY (or a join) is prepared
 * again at every run (about 20 µs against 3 for the same statement without it; bench/RESULTS.md, put-path), and
 * these return a few rows.
 */
function inByteOrder(rows: Row[], column: string): Row[] {
  if (rows.length < 2) return rows;
  return rows.sort((a, b) => inBinaryCollation(a[column] as string, b[column] as string));
}

/** SQLite's BINARY collation (UTF-8 bytes), which JS's own string order (UTF-16 units) is not beyond the BMP. */
function inBinaryCollation(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A version row's stages (STAGES_OF_VERSION) in the order an ORDER BY stage would give. */
function stagesOf(row: Row): string[] {
  const stages = JSON.parse(row.stages as string) as string[];
  if (stages.length < 2) return stages;
  return stages.sort(inBinaryCollation);
}

/** LISTED_LABELS as versionId → labels, versions in the order of their first label, labels in byte order. */
function listedLabels(json: string | null): Record<string, string[]> {
  const labels: Record<string, string[]> = {};
  if (json === null) return labels;
  const pairs = JSON.parse(json) as Array<[string, string]>;
  if (pairs.length > 1) pairs.sort((a, b) => inBinaryCollation(a[1], b[1]));
  for (const [versionId, stage] of pairs) (labels[versionId] ??= []).push(stage);
  return labels;
}

/** LISTED_TAGS as tags in key order (byte order, as an ORDER BY tag_key would). */
function listedTags(json: string | null): Tag[] {
  if (json === null) return [];
  const pairs = JSON.parse(json) as Array<[string, string]>;
  if (pairs.length > 1) pairs.sort((a, b) => inBinaryCollation(a[0], b[0]));
  return pairs.map(([key, value]) => ({ TagKey: key, TagValue: value }));
}

function tagFromRow(row: Row): Tag {
  return { TagKey: row.tag_key, TagValue: row.tag_value };
}
