import type { RotationRunPatch, RotationRunRecord } from '../records/rotation.js';
import type { SecretRecord, SecretRotation } from '../records/secrets.js';

/**
 * Rotation runs (one unfinished run per secret, leased to one node at a time) and the scheduler's view of
 * the secrets due: what rotation owns. A run names its secret; completing one moves the secret's schedule.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface RotationRepository {
  /** Secrets with rotation on whose window has opened and no unfinished rotation, for the scheduler. */
  listSecretsDueForRotation(now: Date, limit: number): Promise<SecretRecord[]>;
  /**
   * Records a new rotation unless the secret has an unfinished one (running or failed), which is returned
   * instead: one rotation at a time per secret, enforced by a constraint.
   */
  startRotationRun(run: RotationRunRecord): Promise<{ started: true } | { started: false; existing: RotationRunRecord }>;
  /** The secret's unfinished rotation, if any. */
  getOpenRotationRun(secretArn: string): Promise<RotationRunRecord | undefined>;
  /**
   * Takes the lease on one running rotation whose next attempt is due and whose lease is free or expired,
   * so that of several nodes exactly one drives it.
   */
  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): Promise<RotationRunRecord | undefined>;
  /** Updates a run held under `leaseOwner` and releases the lease; false when the lease was lost. */
  updateRotationRun(secretArn: string, token: string, leaseOwner: string, patch: RotationRunPatch): Promise<boolean>;
  /** Marks a run succeeded and moves the secret's schedule, in one transaction. */
  completeRotationRun(secretArn: string, token: string, finishedAt: Date, rotation: SecretRotation): Promise<void>;
  /** Makes a failed or waiting run due again now (a new RotateSecret retries the unfinished rotation). */
  retryRotationRun(secretArn: string, token: string, now: Date): Promise<void>;
  /** Ends an unfinished run without completing it (CancelRotateSecret); its AWSPENDING version stays. */
  cancelRotationRun(secretArn: string, token: string, now: Date): Promise<void>;
}
