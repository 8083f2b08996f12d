import type {
  Page,
  ParameterLabelOutcome,
  ParameterListQuery,
  ParameterSelector,
  ParameterVersionRecord,
  ParameterWrite,
  ParameterWriteLimits,
  ParameterWriteOutcome,
  StoredParameter,
  Tag,
} from '../records.js';
import type { ParametersRepository } from '../repositories/parameters.js';
import {
  labelsAfterMove,
  mergedTags,
  PARAMETER_VERSION_COLUMNS,
  parameterPage,
  parameterVersionFromRow,
  parameterVersionRow,
  prefixUpperBound,
  storedParameterFromRow,
} from '../rows/parameters.js';
import type { RunInTransaction, RunPointRead } from './postgres-tables.js';
import type { Sql } from './transaction.js';

type Row = Record<string, any>;
type UnlabelOutcome = Awaited<ReturnType<ParametersRepository['unlabelParameterVersion']>>;

const LATEST_JOIN = `FROM ssm_parameters p JOIN ssm_parameter_versions v
  ON v.account_id = p.account_id AND v.region = p.region AND v.name = p.name AND v.version = p.latest_version`;

/** Above every character a parameter name may hold: the upper bound of a listing without a path. */
const AFTER_EVERY_NAME = '\u007f';

/**
 * SSM parameters in PostgreSQL: the SQL of SqliteParameterTables, each write one SERIALIZABLE transaction (so
 * version numbers, the version and label limits and the parameter limit hold under concurrent writers); the
 * GetParameter read is one SELECT without a transaction around it.
 */
export class PostgresParameterTables implements ParametersRepository {
  readonly #transaction: RunInTransaction;
  readonly #pointRead: RunPointRead;

  constructor(transaction: RunInTransaction, pointRead: RunPointRead) {
    this.#transaction = transaction;
    this.#pointRead = pointRead;
  }

  putParameter(write: ParameterWrite, limits: ParameterWriteLimits): Promise<ParameterWriteOutcome> {
    return this.#transaction(async (sql): Promise<ParameterWriteOutcome> => {
      const key = [write.accountId, write.region, write.name];
      const parameter = await sql.one('SELECT latest_version FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', key);
      if (parameter && !limits.overwrite) return { kind: 'exists' };
      const expiresAt = write.expiresAt?.getTime() ?? null;
      if (!parameter) {
        if (write.tier === 'Standard') {
          const count = await sql.one("SELECT count(*) AS n FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND latest_tier = 'Standard'", [write.accountId, write.region]);
          if (Number(count!.n) >= limits.maxStandardParameters) return { kind: 'parameter-limit' };
        }
        const inserted = await sql.run(
          'INSERT INTO ssm_parameters (account_id, region, name, latest_version, latest_tier, tags, expires_at) VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT DO NOTHING',
          [...key, write.tier, JSON.stringify(write.tags), expiresAt],
        );
        if (inserted !== 1) return { kind: 'exists' };
        await insertVersion(sql, write, 1);
        return { kind: 'written', version: 1 };
      }
      const versions = await sql.rows('SELECT version, labels FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 ORDER BY version', key);
      if (versions.length >= limits.maxVersions) {
        const oldest = versions[0]!;
        if (JSON.parse(oldest.labels).length > 0) return { kind: 'oldest-version-labelled' };
        await sql.run('DELETE FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 AND version = $4', [...key, oldest.version]);
      }
      const version = Number(parameter.latest_version) + 1;
      await insertVersion(sql, write, version);
      await sql.run('UPDATE ssm_parameters SET latest_version = $1, latest_tier = $2, expires_at = $3 WHERE account_id = $4 AND region = $5 AND name = $6', [
        version,
        write.tier,
        expiresAt,
        ...key,
      ]);
      return { kind: 'written', version };
    });
  }

  async getParameter(accountId: string, region: string, name: string, selector: ParameterSelector = {}): Promise<StoredParameter | undefined> {
    if (selector.version === undefined && selector.label === undefined) {
      const row = await this.#pointRead((sql) => sql.one(`SELECT v.*, p.expires_at ${LATEST_JOIN} WHERE p.account_id = $1 AND p.region = $2 AND p.name = $3`, [accountId, region, name]));
      return row && storedParameterFromRow(row);
    }
    const rows = await this.#pointRead((sql) =>
      sql.rows(
        `SELECT v.*, p.expires_at FROM ssm_parameters p JOIN ssm_parameter_versions v ON v.account_id = p.account_id AND v.region = p.region AND v.name = p.name
         WHERE p.account_id = $1 AND p.region = $2 AND p.name = $3 ORDER BY v.version`,
        [accountId, region, name],
      ),
    );
    return rows
      .map(storedParameterFromRow)
      .find((stored) => (selector.version === undefined || stored.version === selector.version) && (selector.label === undefined || stored.labels.includes(selector.label)));
  }

  listParameterVersions(accountId: string, region: string, name: string): Promise<ParameterVersionRecord[]> {
    return this.#transaction(async (sql) => (await versionRows(sql, accountId, region, name)).map(parameterVersionFromRow));
  }

  listParameters(accountId: string, region: string, query: ParameterListQuery): Promise<Page<StoredParameter>> {
    const lower = query.prefix ?? '';
    const upper = query.prefix ? prefixUpperBound(query.prefix) : AFTER_EVERY_NAME;
    const oneLevel = query.prefix !== undefined && !query.recursive ? `AND strpos(substr(p.name, $7), '/') = 0` : '';
    const parameters = [accountId, region, query.afterName ?? '', lower, upper, query.limit + 1, ...(oneLevel ? [lower.length + 1] : [])];
    return this.#pointRead(async (sql) => {
      const rows = await sql.rows(
        `SELECT v.*, p.expires_at ${LATEST_JOIN}
         WHERE p.account_id = $1 AND p.region = $2 AND p.name > $3 AND p.name >= $4 AND p.name < $5 ${oneLevel} ORDER BY p.name LIMIT $6`,
        parameters,
      );
      return parameterPage(rows.map(storedParameterFromRow), query.limit);
    });
  }

  deleteParameter(accountId: string, region: string, name: string): Promise<boolean> {
    return this.#transaction(async (sql) => (await sql.run('DELETE FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name])) === 1);
  }

  deleteExpiredParameters(now: Date): Promise<Array<{ accountId: string; region: string; name: string }>> {
    return this.#transaction(async (sql) => {
      const rows = await sql.rows('DELETE FROM ssm_parameters WHERE expires_at <= $1 RETURNING account_id, region, name', [now.getTime()]);
      return rows.map((row) => ({ accountId: row.account_id, region: row.region, name: row.name }));
    });
  }

  labelParameterVersion(accountId: string, region: string, name: string, version: number | undefined, labels: string[], maxLabels: number): Promise<ParameterLabelOutcome> {
    return this.#transaction(async (sql): Promise<ParameterLabelOutcome> => {
      const parameter = await sql.one('SELECT latest_version FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name]);
      if (!parameter) return { kind: 'absent' };
      const target = version ?? Number(parameter.latest_version);
      const versions = (await versionRows(sql, accountId, region, name)).map(parameterVersionFromRow);
      const chosen = versions.find((record) => record.version === target);
      if (!chosen) return { kind: 'version-absent' };
      const next = labelsAfterMove(chosen.labels, labels);
      if (next.length > maxLabels) return { kind: 'limit-exceeded' };
      for (const record of versions) {
        const updated = record.version === target ? next : record.labels.filter((label) => !labels.includes(label));
        if (updated.length !== record.labels.length || record.version === target) await setLabels(sql, accountId, region, name, record.version, updated);
      }
      return { kind: 'labelled', version: target };
    });
  }

  unlabelParameterVersion(accountId: string, region: string, name: string, version: number, labels: string[]): Promise<UnlabelOutcome> {
    return this.#transaction(async (sql): Promise<UnlabelOutcome> => {
      if (!(await sql.one('SELECT 1 FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name]))) return { kind: 'absent' };
      const row = await sql.one('SELECT labels FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 AND version = $4', [accountId, region, name, version]);
      if (!row) return { kind: 'version-absent' };
      const current = JSON.parse(row.labels) as string[];
      const removed = labels.filter((label) => current.includes(label));
      await setLabels(sql, accountId, region, name, version, current.filter((label) => !labels.includes(label)));
      return { kind: 'unlabelled', removed };
    });
  }

  getParameterTags(accountId: string, region: string, name: string): Promise<Tag[] | undefined> {
    return this.#transaction((sql) => tagsOf(sql, accountId, region, name));
  }

  tagParameter(accountId: string, region: string, name: string, tags: Tag[], maxTags: number): Promise<'updated' | 'absent' | 'limit-exceeded'> {
    return this.#transaction(async (sql) => {
      const current = await tagsOf(sql, accountId, region, name);
      if (!current) return 'absent' as const;
      const merged = mergedTags(current, tags, maxTags);
      if (merged === 'limit-exceeded') return merged;
      await writeTags(sql, accountId, region, name, merged);
      return 'updated' as const;
    });
  }

  untagParameter(accountId: string, region: string, name: string, tagKeys: string[]): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const current = await tagsOf(sql, accountId, region, name);
      if (!current) return false;
      await writeTags(sql, accountId, region, name, current.filter((tag) => !tagKeys.includes(tag.TagKey)));
      return true;
    });
  }
}

async function insertVersion(sql: Sql, write: ParameterWrite, version: number): Promise<void> {
  const placeholders = Array.from({ length: 17 }, (_, index) => `$${index + 1}`).join(', ');
  await sql.run(`INSERT INTO ssm_parameter_versions (${PARAMETER_VERSION_COLUMNS}) VALUES (${placeholders})`, parameterVersionRow(write, version));
}

function versionRows(sql: Sql, accountId: string, region: string, name: string): Promise<Row[]> {
  return sql.rows('SELECT * FROM ssm_parameter_versions WHERE account_id = $1 AND region = $2 AND name = $3 ORDER BY version', [accountId, region, name]);
}

async function tagsOf(sql: Sql, accountId: string, region: string, name: string): Promise<Tag[] | undefined> {
  const row = await sql.one('SELECT tags FROM ssm_parameters WHERE account_id = $1 AND region = $2 AND name = $3', [accountId, region, name]);
  return row && (JSON.parse(row.tags) as Tag[]);
}

async function setLabels(sql: Sql, accountId: string, region: string, name: string, version: number, labels: string[]): Promise<void> {
  await sql.run('UPDATE ssm_parameter_versions SET labels = $1 WHERE account_id = $2 AND region = $3 AND name = $4 AND version = $5', [JSON.stringify(labels), accountId, region, name, version]);
}

async function writeTags(sql: Sql, accountId: string, region: string, name: string, tags: Tag[]): Promise<void> {
  await sql.run('UPDATE ssm_parameters SET tags = $1 WHERE account_id = $2 AND region = $3 AND name = $4', [JSON.stringify(tags), accountId, region, name]);
}
