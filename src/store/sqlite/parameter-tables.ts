import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
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

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

const LATEST_JOIN = `FROM ssm_parameters p JOIN ssm_parameter_versions v
  ON v.account_id = p.account_id AND v.region = p.region AND v.name = p.name AND v.version = p.latest_version`;

/** Above every character a parameter name may hold: the upper bound of a listing without a path. */
const AFTER_EVERY_NAME = '\u007f';

/** SSM parameters in SQLite (ssm_parameters, ssm_parameter_versions); read-decide-write methods run in IMMEDIATE transactions. */
export class SqliteParameterTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  putParameter(write: ParameterWrite, limits: ParameterWriteLimits): ParameterWriteOutcome {
    return this.#db.transaction((): ParameterWriteOutcome => {
      const key = [write.accountId, write.region, write.name];
      const parameter = this.#stmt('SELECT latest_version FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?').get(...key) as Row | undefined;
      if (parameter && !limits.overwrite) return { kind: 'exists' };
      const expiresAt = write.expiresAt?.getTime() ?? null;
      if (!parameter) {
        if (write.tier === 'Standard' && this.#standardCount(write.accountId, write.region) >= limits.maxStandardParameters) return { kind: 'parameter-limit' };
        this.#stmt('INSERT INTO ssm_parameters (account_id, region, name, latest_version, latest_tier, tags, expires_at) VALUES (?, ?, ?, 1, ?, ?, ?)').run(
          ...key,
          write.tier,
          JSON.stringify(write.tags),
          expiresAt,
        );
        this.#insertVersion(write, 1);
        return { kind: 'written', version: 1 };
      }
      const versions = this.#stmt('SELECT version, labels FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? ORDER BY version').all(...key) as Row[];
      if (versions.length >= limits.maxVersions) {
        const oldest = versions[0]!;
        if (JSON.parse(oldest.labels).length > 0) return { kind: 'oldest-version-labelled' };
        this.#stmt('DELETE FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?').run(...key, oldest.version);
      }
      const version = Number(parameter.latest_version) + 1;
      this.#insertVersion(write, version);
      this.#stmt('UPDATE ssm_parameters SET latest_version = ?, latest_tier = ?, expires_at = ? WHERE account_id = ? AND region = ? AND name = ?').run(
        version,
        write.tier,
        expiresAt,
        ...key,
      );
      return { kind: 'written', version };
    }).immediate();
  }

  getParameter(accountId: string, region: string, name: string, selector: ParameterSelector = {}): StoredParameter | undefined {
    if (selector.version === undefined && selector.label === undefined) {
      const row = this.#stmt(`SELECT v.*, p.expires_at ${LATEST_JOIN} WHERE p.account_id = ? AND p.region = ? AND p.name = ?`).get(accountId, region, name) as Row | undefined;
      return row && storedParameterFromRow(row);
    }
    const rows = this.#stmt(
      `SELECT v.*, p.expires_at FROM ssm_parameters p JOIN ssm_parameter_versions v ON v.account_id = p.account_id AND v.region = p.region AND v.name = p.name
       WHERE p.account_id = ? AND p.region = ? AND p.name = ? ORDER BY v.version`,
    ).all(accountId, region, name) as Row[];
    const found = rows.map(storedParameterFromRow).find((stored) => (selector.version === undefined || stored.version === selector.version) && (selector.label === undefined || stored.labels.includes(selector.label)));
    return found;
  }

  listParameterVersions(accountId: string, region: string, name: string): ParameterVersionRecord[] {
    const rows = this.#stmt('SELECT * FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? ORDER BY version').all(accountId, region, name) as Row[];
    return rows.map(parameterVersionFromRow);
  }

  listParameters(accountId: string, region: string, query: ParameterListQuery): Page<StoredParameter> {
    const lower = query.prefix ?? '';
    const upper = query.prefix ? prefixUpperBound(query.prefix) : AFTER_EVERY_NAME;
    const oneLevel = query.prefix !== undefined && !query.recursive ? 'AND instr(substr(p.name, ?), \'/\') = 0' : '';
    const parameters = [accountId, region, query.afterName ?? '', lower, upper, ...(oneLevel ? [lower.length + 1] : []), query.limit + 1];
    const rows = this.#stmt(
      `SELECT v.*, p.expires_at ${LATEST_JOIN}
       WHERE p.account_id = ? AND p.region = ? AND p.name > ? AND p.name >= ? AND p.name < ? ${oneLevel} ORDER BY p.name LIMIT ?`,
    ).all(...parameters) as Row[];
    return parameterPage(rows.map(storedParameterFromRow), query.limit);
  }

  deleteParameter(accountId: string, region: string, name: string): boolean {
    return this.#stmt('DELETE FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?').run(accountId, region, name).changes === 1;
  }

  deleteExpiredParameters(now: Date): Array<{ accountId: string; region: string; name: string }> {
    const rows = this.#stmt('DELETE FROM ssm_parameters WHERE expires_at <= ? RETURNING account_id, region, name').all(now.getTime()) as Row[];
    return rows.map((row) => ({ accountId: row.account_id, region: row.region, name: row.name }));
  }

  labelParameterVersion(accountId: string, region: string, name: string, version: number | undefined, labels: string[], maxLabels: number): ParameterLabelOutcome {
    return this.#db.transaction((): ParameterLabelOutcome => {
      const parameter = this.#stmt('SELECT latest_version FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) as Row | undefined;
      if (!parameter) return { kind: 'absent' };
      const target = version ?? Number(parameter.latest_version);
      const versions = this.listParameterVersions(accountId, region, name);
      const chosen = versions.find((record) => record.version === target);
      if (!chosen) return { kind: 'version-absent' };
      const next = labelsAfterMove(chosen.labels, labels);
      if (next.length > maxLabels) return { kind: 'limit-exceeded' };
      for (const record of versions) {
        const updated = record.version === target ? next : record.labels.filter((label) => !labels.includes(label));
        if (updated.length !== record.labels.length || record.version === target) this.#setLabels(accountId, region, name, record.version, updated);
      }
      return { kind: 'labelled', version: target };
    }).immediate();
  }

  unlabelParameterVersion(
    accountId: string,
    region: string,
    name: string,
    version: number,
    labels: string[],
  ): { kind: 'absent' } | { kind: 'version-absent' } | { kind: 'unlabelled'; removed: string[] } {
    return this.#db.transaction(() => {
      if (!this.#exists(accountId, region, name)) return { kind: 'absent' as const };
      const row = this.#stmt('SELECT labels FROM ssm_parameter_versions WHERE account_id = ? AND region = ? AND name = ? AND version = ?').get(accountId, region, name, version) as Row | undefined;
      if (!row) return { kind: 'version-absent' as const };
      const current = JSON.parse(row.labels) as string[];
      const removed = labels.filter((label) => current.includes(label));
      this.#setLabels(accountId, region, name, version, current.filter((label) => !labels.includes(label)));
      return { kind: 'unlabelled' as const, removed };
    }).immediate();
  }

  getParameterTags(accountId: string, region: string, name: string): Tag[] | undefined {
    const row = this.#stmt('SELECT tags FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) as Row | undefined;
    return row && (JSON.parse(row.tags) as Tag[]);
  }

  tagParameter(accountId: string, region: string, name: string, tags: Tag[], maxTags: number): 'updated' | 'absent' | 'limit-exceeded' {
    return this.#db.transaction(() => {
      const current = this.getParameterTags(accountId, region, name);
      if (!current) return 'absent' as const;
      const merged = mergedTags(current, tags, maxTags);
      if (merged === 'limit-exceeded') return merged;
      this.#writeTags(accountId, region, name, merged);
      return 'updated' as const;
    }).immediate();
  }

  untagParameter(accountId: string, region: string, name: string, tagKeys: string[]): boolean {
    return this.#db.transaction(() => {
      const current = this.getParameterTags(accountId, region, name);
      if (!current) return false;
      this.#writeTags(accountId, region, name, current.filter((tag) => !tagKeys.includes(tag.TagKey)));
      return true;
    }).immediate();
  }

  #insertVersion(write: ParameterWrite, version: number): void {
    this.#stmt(`INSERT INTO ssm_parameter_versions (${PARAMETER_VERSION_COLUMNS}) VALUES (${Array(17).fill('?').join(', ')})`).run(...parameterVersionRow(write, version));
  }

  #standardCount(accountId: string, region: string): number {
    return this.#stmt("SELECT count(*) FROM ssm_parameters WHERE account_id = ? AND region = ? AND latest_tier = 'Standard'").pluck().get(accountId, region) as number;
  }

  #exists(accountId: string, region: string, name: string): boolean {
    return this.#stmt('SELECT 1 FROM ssm_parameters WHERE account_id = ? AND region = ? AND name = ?').get(accountId, region, name) !== undefined;
  }

  #setLabels(accountId: string, region: string, name: string, version: number, labels: string[]): void {
    this.#stmt('UPDATE ssm_parameter_versions SET labels = ? WHERE account_id = ? AND region = ? AND name = ? AND version = ?').run(JSON.stringify(labels), accountId, region, name, version);
  }

  #writeTags(accountId: string, region: string, name: string, tags: Tag[]): void {
    this.#stmt('UPDATE ssm_parameters SET tags = ? WHERE account_id = ? AND region = ? AND name = ?').run(JSON.stringify(tags), accountId, region, name);
  }
}
