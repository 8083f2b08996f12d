import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { RotationRunPatch, RotationRunRecord, SecretRecord, SecretRotation } from '../records.js';
import { rotationValues, secretFromRow } from '../rows/secrets.js';
import { RUN_COLUMNS, runFromRow } from '../rows/rotation-runs.js';
import { BOOLEAN_COLUMNS, patchAssignments } from './sql-values.js';

type Row = Record<string, any>;
type Prepare = (sql: string) => Statement;

/**
 * Rotation schedules and runs in SQLite. A partial unique index keeps one unfinished run per secret; leases
 * are conditional updates, so several processes on one database claim each run once.
 */
export class SqliteRotationTables {
  readonly #db: Database.Database;
  readonly #stmt: Prepare;

  constructor(db: Database.Database, prepare: Prepare) {
    this.#db = db;
    this.#stmt = prepare;
  }

  setSecretRotation(arn: string, rotation: SecretRotation): SecretRecord | undefined {
    const row = this.#stmt(
      `UPDATE secrets SET rotation_enabled = ?, rotation_lambda_arn = ?, rotation_rules = ?, last_rotated_date = ?,
         next_rotation_date = ?, next_rotation_window_end = ? WHERE arn = ? RETURNING *`,
    ).get(...rotationValues(rotation, BOOLEAN_COLUMNS), arn) as Row | undefined;
    return row && secretFromRow(row, BOOLEAN_COLUMNS);
  }

  listSecretsDueForRotation(now: Date, limit: number): SecretRecord[] {
    const rows = this.#stmt(
      `SELECT * FROM secrets WHERE rotation_enabled = 1 AND deleted_date IS NULL AND next_rotation_date <= ?
         AND NOT EXISTS (SELECT 1 FROM rotation_runs r WHERE r.secret_arn = secrets.arn AND r.status IN ('running', 'failed'))
       ORDER BY next_rotation_date LIMIT ?`,
    ).all(now.getTime(), limit) as Row[];
    return rows.map((row) => secretFromRow(row, BOOLEAN_COLUMNS));
  }

  startRotationRun(run: RotationRunRecord): { started: true } | { started: false; existing: RotationRunRecord } {
    return this.#db.transaction((): { started: true } | { started: false; existing: RotationRunRecord } => {
      const inserted = this.#stmt(
        `INSERT INTO rotation_runs (secret_arn, token, status, step, attempts, last_error, started_at, updated_at, next_attempt_at, lease_owner, lease_expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL) ON CONFLICT DO NOTHING`,
      ).run(run.secretArn, run.token, run.status, run.step, run.attempts, run.lastError ?? null, run.startedAt.getTime(), run.updatedAt.getTime(), run.nextAttemptAt.getTime());
      if (inserted.changes === 1) return { started: true };
      const existing = this.getOpenRotationRun(run.secretArn) ?? this.#getRun(run.secretArn, run.token);
      if (!existing) throw new Error(`rotation run for ${run.secretArn} neither inserted nor found`);
      return { started: false, existing };
    })();
  }

  getOpenRotationRun(secretArn: string): RotationRunRecord | undefined {
    const row = this.#stmt("SELECT * FROM rotation_runs WHERE secret_arn = ? AND status IN ('running', 'failed')").get(secretArn) as Row | undefined;
    return row && runFromRow(row);
  }

  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): RotationRunRecord | undefined {
    const row = this.#stmt(
      `UPDATE rotation_runs SET lease_owner = ?, lease_expires_at = ?
       WHERE rowid = (SELECT rowid FROM rotation_runs WHERE status = 'running' AND next_attempt_at <= ?
                        AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at LIMIT 1)
       RETURNING *`,
    ).get(leaseOwner, now.getTime() + leaseMs, now.getTime(), now.getTime()) as Row | undefined;
    return row && runFromRow(row);
  }

  updateRotationRun(secretArn: string, token: string, leaseOwner: string, patch: RotationRunPatch): boolean {
    const { assignments, values } = patchAssignments(patch, RUN_COLUMNS);
    const result = this.#stmt(
      `UPDATE rotation_runs SET ${[...assignments, 'lease_owner = NULL', 'lease_expires_at = NULL'].join(', ')}
       WHERE secret_arn = ? AND token = ? AND lease_owner = ?`,
    ).run(...values, secretArn, token, leaseOwner);
    return result.changes === 1;
  }

  completeRotationRun(secretArn: string, token: string, finishedAt: Date, rotation: SecretRotation): void {
    this.#db.transaction(() => {
      this.#stmt(
        "UPDATE rotation_runs SET status = 'succeeded', updated_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE secret_arn = ? AND token = ?",
      ).run(finishedAt.getTime(), secretArn, token);
      this.setSecretRotation(secretArn, rotation);
    })();
  }

  retryRotationRun(secretArn: string, token: string, now: Date): void {
    this.#stmt(
      "UPDATE rotation_runs SET status = 'running', next_attempt_at = ?, updated_at = ? WHERE secret_arn = ? AND token = ? AND status IN ('running', 'failed')",
    ).run(now.getTime(), now.getTime(), secretArn, token);
  }

  cancelRotationRun(secretArn: string, token: string, now: Date): void {
    this.#stmt(
      "UPDATE rotation_runs SET status = 'cancelled', updated_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE secret_arn = ? AND token = ? AND status IN ('running', 'failed')",
    ).run(now.getTime(), secretArn, token);
  }

  #getRun(secretArn: string, token: string): RotationRunRecord | undefined {
    const row = this.#stmt('SELECT * FROM rotation_runs WHERE secret_arn = ? AND token = ?').get(secretArn, token) as Row | undefined;
    return row && runFromRow(row);
  }
}
