/** Row <-> record mapping of the rotation_runs table, shared by the SQLite and PostgreSQL backends (same columns, same encodings). */
import type { RotationRunPatch, RotationRunRecord } from '../records.js';
import { optionalDate, type Row } from './values.js';

export const RUN_COLUMNS: Record<keyof RotationRunPatch, string> = {
  status: 'status',
  step: 'step',
  attempts: 'attempts',
  lastError: 'last_error',
  updatedAt: 'updated_at',
  nextAttemptAt: 'next_attempt_at',
};

export function runFromRow(row: Row): RotationRunRecord {
  return {
    secretArn: row.secret_arn,
    token: row.token,
    status: row.status,
    step: row.step,
    attempts: row.attempts,
    lastError: row.last_error ?? undefined,
    startedAt: new Date(row.started_at),
    updatedAt: new Date(row.updated_at),
    nextAttemptAt: new Date(row.next_attempt_at),
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpiresAt: optionalDate(row.lease_expires_at),
    leaseEpoch: Number(row.lease_epoch),
  };
}
