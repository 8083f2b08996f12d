import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { RotationLease, RotationRunPatch, RotationRunRecord, RotationStep, SecretRecord, SecretRotation } from '../records.js';
import type { RotationLag } from '../repositories/rotation.js';
import { rotationValues, secretFromRow } from '../rows/secrets.js';
import { RUN_COLUMNS, runFromRow } from '../rows/rotation-runs.js';
import { BOOLEAN_COLUMNS, patchAssignments } from './sql-values.js';

type Row = Record<string, any>;

function lagFromRow(row: Row): RotationLag {
  const overdueSecrets = Number(row.overdue);
  return overdueSecrets === 0 || row.oldest === null ? { overdueSecrets } : { overdueSecrets, oldestDueDate: new Date(Number(row.oldest)) };
}
type Prepare = (sql: string) => Statement;

/** What a holder's last write sets: the lease is free again (the epoch stays, so the next claim is a new one). */
const RELEASE_LEASE = ['lease_owner = NULL', 'lease_expires_at = NULL'];

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

  rotationLag(now: Date): RotationLag {
    const row = this.#stmt(
      `SELECT count(*) AS overdue, min(next_rotation_date) AS oldest FROM secrets
       WHERE rotation_enabled = 1 AND deleted_date IS NULL AND coalesce(next_rotation_window_end, next_rotation_date) < ?`,
    ).get(now.getTime()) as Row;
    return lagFromRow(row);
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

  /** A claim adds one to the epoch, the fencing token the holder's later writes name. */
  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): RotationRunRecord | undefined {
    const row = this.#stmt(
      `UPDATE rotation_runs SET lease_owner = ?, lease_expires_at = ?, lease_epoch = lease_epoch + 1
       WHERE rowid = (SELECT rowid FROM rotation_runs WHERE status = 'running' AND next_attempt_at <= ?
                        AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ORDER BY next_attempt_at LIMIT 1)
       RETURNING *`,
    ).get(leaseOwner, now.getTime() + leaseMs, now.getTime(), now.getTime()) as Row | undefined;
    return row && runFromRow(row);
  }

  renewRotationLease(secretArn: string, token: string, lease: RotationLease, expiresAt: Date): boolean {
    return this.#fencedUpdate(secretArn, token, lease, ['lease_expires_at = ?'], [expiresAt.getTime()]);
  }

  recordRotationProgress(secretArn: string, token: string, lease: RotationLease, step: RotationStep, updatedAt: Date): boolean {
    return this.#fencedUpdate(secretArn, token, lease, ['step = ?', 'updated_at = ?'], [step, updatedAt.getTime()]);
  }

  updateRotationRun(secretArn: string, token: string, lease: RotationLease, patch: RotationRunPatch): boolean {
    const { assignments, values } = patchAssignments(patch, RUN_COLUMNS);
    return this.#fencedUpdate(secretArn, token, lease, [...assignments, ...RELEASE_LEASE], values);
  }

  /** The run and the secret's schedule change together, or (the lease lost) neither does. */
  completeRotationRun(secretArn: string, token: string, lease: RotationLease, finishedAt: Date, rotation: SecretRotation): boolean {
    return this.#db.transaction((): boolean => {
      const completed = this.#fencedUpdate(secretArn, token, lease, ["status = 'succeeded'", 'updated_at = ?', ...RELEASE_LEASE], [finishedAt.getTime()]);
      if (completed) this.setSecretRotation(secretArn, rotation);
      return completed;
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

  /** A holder's write: applies only while the run is running under the lease it claimed (owner and epoch). */
  #fencedUpdate(secretArn: string, token: string, lease: RotationLease, assignments: string[], values: unknown[]): boolean {
    const result = this.#stmt(
      `UPDATE rotation_runs SET ${assignments.join(', ')}
       WHERE secret_arn = ? AND token = ? AND status = 'running' AND lease_owner = ? AND lease_epoch = ?`,
    ).run(...values, secretArn, token, lease.owner, lease.epoch);
    return result.changes === 1;
  }

  #getRun(secretArn: string, token: string): RotationRunRecord | undefined {
    const row = this.#stmt('SELECT * FROM rotation_runs WHERE secret_arn = ? AND token = ?').get(secretArn, token) as Row | undefined;
    return row && runFromRow(row);
  }
}
