import type { RotationLease, RotationRunPatch, RotationRunRecord, RotationStep, SecretRecord, SecretRotation } from '../records.js';
import { rotationValues, secretFromRow } from '../rows/secrets.js';
import { RUN_COLUMNS, runFromRow } from '../rows/rotation-runs.js';
import type { RotationLag, RotationRepository } from '../repositories/rotation.js';
import { BOOLEAN_COLUMNS, patchAssignments, type RunInTransaction } from './postgres-tables.js';
import type { Sql } from './transaction.js';

type StartOutcome = { started: true } | { started: false; existing: RotationRunRecord };

/**
 * Rotation runs in PostgreSQL: the SQL of SqliteRotationTables. A partial unique index keeps one unfinished
 * run per secret; a lease is a row's owner and expiry, taken and released by conditional updates, so several
 * nodes claim each run once. No SKIP LOCKED, LISTEN/NOTIFY or advisory lock: two nodes claiming the same row
 * conflict (40001) and the loser's retry claims another run or none.
 */
export class PostgresRotationTables implements RotationRepository {
  readonly #transaction: RunInTransaction;

  constructor(transaction: RunInTransaction) {
    this.#transaction = transaction;
  }

  listSecretsDueForRotation(now: Date, limit: number): Promise<SecretRecord[]> {
    return this.#transaction(async (sql) =>
      (await sql.rows(
        `SELECT * FROM secrets WHERE rotation_enabled AND deleted_date IS NULL AND next_rotation_date <= $1
           AND NOT EXISTS (SELECT 1 FROM rotation_runs r WHERE r.secret_arn = secrets.arn AND r.status IN ('running', 'failed'))
         ORDER BY next_rotation_date LIMIT $2`,
        [now.getTime(), limit],
      )).map((row) => secretFromRow(row, BOOLEAN_COLUMNS)),
    );
  }

  rotationLag(now: Date): Promise<RotationLag> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `SELECT count(*)::int AS overdue, min(next_rotation_date) AS oldest FROM secrets
         WHERE rotation_enabled AND deleted_date IS NULL AND coalesce(next_rotation_window_end, next_rotation_date) < $1`,
        [now.getTime()],
      );
      const overdueSecrets = Number(row!.overdue);
      return overdueSecrets === 0 || row!.oldest === null ? { overdueSecrets } : { overdueSecrets, oldestDueDate: new Date(Number(row!.oldest)) };
    });
  }

  startRotationRun(run: RotationRunRecord): Promise<StartOutcome> {
    return this.#transaction(async (sql): Promise<StartOutcome> => {
      const inserted = await sql.run(
        `INSERT INTO rotation_runs (secret_arn, token, status, step, attempts, last_error, started_at, updated_at, next_attempt_at, lease_owner, lease_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL) ON CONFLICT DO NOTHING`,
        [run.secretArn, run.token, run.status, run.step, run.attempts, run.lastError ?? null, run.startedAt.getTime(), run.updatedAt.getTime(), run.nextAttemptAt.getTime()],
      );
      if (inserted === 1) return { started: true };
      const row =
        (await sql.one("SELECT * FROM rotation_runs WHERE secret_arn = $1 AND status IN ('running', 'failed')", [run.secretArn])) ??
        (await sql.one('SELECT * FROM rotation_runs WHERE secret_arn = $1 AND token = $2', [run.secretArn, run.token]));
      if (!row) throw new Error(`rotation run for ${run.secretArn} neither inserted nor found`);
      return { started: false, existing: runFromRow(row) };
    });
  }

  getOpenRotationRun(secretArn: string): Promise<RotationRunRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one("SELECT * FROM rotation_runs WHERE secret_arn = $1 AND status IN ('running', 'failed')", [secretArn]);
      return row && runFromRow(row);
    });
  }

  /**
   * The lease conditions are repeated on the updated row, so the claim holds even below SERIALIZABLE. A claim
   * adds one to the epoch, the fencing token the holder's later writes name.
   */
  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): Promise<RotationRunRecord | undefined> {
    return this.#transaction(async (sql) => {
      const row = await sql.one(
        `UPDATE rotation_runs SET lease_owner = $1, lease_expires_at = $2, lease_epoch = lease_epoch + 1
         WHERE (secret_arn, token) = (SELECT secret_arn, token FROM rotation_runs WHERE status = 'running' AND next_attempt_at <= $3
                                        AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ORDER BY next_attempt_at LIMIT 1)
           AND status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
         RETURNING *`,
        [leaseOwner, now.getTime() + leaseMs, now.getTime()],
      );
      return row && runFromRow(row);
    });
  }

  renewRotationLease(secretArn: string, token: string, lease: RotationLease, expiresAt: Date): Promise<boolean> {
    return this.#transaction((sql) => fencedUpdate(sql, secretArn, token, lease, [`lease_expires_at = ${FIRST_VALUE}`], [expiresAt.getTime()]));
  }

  recordRotationProgress(secretArn: string, token: string, lease: RotationLease, step: RotationStep, updatedAt: Date): Promise<boolean> {
    return this.#transaction((sql) =>
      fencedUpdate(sql, secretArn, token, lease, [`step = ${FIRST_VALUE}`, `updated_at = $${FIRST_PATCH_PARAMETER + 1}`], [step, updatedAt.getTime()]),
    );
  }

  updateRotationRun(secretArn: string, token: string, lease: RotationLease, patch: RotationRunPatch): Promise<boolean> {
    const { assignments, values } = patchAssignments(patch, RUN_COLUMNS, FIRST_PATCH_PARAMETER);
    return this.#transaction((sql) => fencedUpdate(sql, secretArn, token, lease, [...assignments, ...RELEASE_LEASE], values));
  }

  /** The run and the secret's schedule change together, or (the lease lost) neither does. */
  completeRotationRun(secretArn: string, token: string, lease: RotationLease, finishedAt: Date, rotation: SecretRotation): Promise<boolean> {
    return this.#transaction(async (sql) => {
      const completed = await fencedUpdate(sql, secretArn, token, lease, ["status = 'succeeded'", `updated_at = ${FIRST_VALUE}`, ...RELEASE_LEASE], [finishedAt.getTime()]);
      if (!completed) return false;
      await sql.run(
        `UPDATE secrets SET rotation_enabled = $1, rotation_lambda_arn = $2, rotation_rules = $3, last_rotated_date = $4,
           next_rotation_date = $5, next_rotation_window_end = $6 WHERE arn = $7`,
        [...rotationValues(rotation, BOOLEAN_COLUMNS), secretArn],
      );
      return true;
    });
  }

  retryRotationRun(secretArn: string, token: string, now: Date): Promise<void> {
    return this.#transaction(async (sql) => {
      await sql.run(
        "UPDATE rotation_runs SET status = 'running', next_attempt_at = $1, updated_at = $1 WHERE secret_arn = $2 AND token = $3 AND status IN ('running', 'failed')",
        [now.getTime(), secretArn, token],
      );
    });
  }

  cancelRotationRun(secretArn: string, token: string, now: Date): Promise<void> {
    return this.#transaction(async (sql) => {
      await sql.run(
        "UPDATE rotation_runs SET status = 'cancelled', updated_at = $1, lease_owner = NULL, lease_expires_at = NULL WHERE secret_arn = $2 AND token = $3 AND status IN ('running', 'failed')",
        [now.getTime(), secretArn, token],
      );
    });
  }
}

/** The fence takes $1..$4 (run and lease); a write's own values start after it. */
const FIRST_PATCH_PARAMETER = 5;
const FIRST_VALUE = `$${FIRST_PATCH_PARAMETER}`;
/** What a holder's last write sets: the lease is free again (the epoch stays, so the next claim is a new one). */
const RELEASE_LEASE = ['lease_owner = NULL', 'lease_expires_at = NULL'];

/** A holder's write: applies only while the run is running under the lease it claimed (owner and epoch). */
async function fencedUpdate(sql: Sql, secretArn: string, token: string, lease: RotationLease, assignments: string[], values: unknown[]): Promise<boolean> {
  const changed = await sql.run(
    `UPDATE rotation_runs SET ${assignments.join(', ')}
     WHERE secret_arn = $1 AND token = $2 AND status = 'running' AND lease_owner = $3 AND lease_epoch = $4`,
    [secretArn, token, lease.owner, lease.epoch, ...values],
  );
  return changed === 1;
}
