import type { RotationLease, RotationRunPatch, RotationRunRecord, RotationStep } from '../records/rotation.js';
import type { SecretRecord, SecretRotation } from '../records/secrets.js';

/** What rotationLag reports: the secrets overdue, and since when the longest overdue one was due. */
export type RotationLag = { overdueSecrets: number; oldestDueDate?: Date };

/**
 * Rotation runs (one unfinished run per secret, leased to one node at a time) and the scheduler's view of
 * the secrets due: what rotation owns. A run names its secret; completing one moves the secret's schedule.
 * The invariants of every repository are Store's (../store.ts).
 */
export interface RotationRepository {
  /** Secrets with rotation on whose window has opened and no unfinished rotation, for the scheduler. */
  listSecretsDueForRotation(now: Date, limit: number): Promise<SecretRecord[]>;
  /**
   * Secrets with rotation on (and not deleted) whose rotation window closed before `now` without a rotation
   * moving their schedule (metrics): how many, and the earliest window start among them. The window ends at
   * nextRotationWindowEnd, or at nextRotationDate when the secret has no window end.
   */
  rotationLag(now: Date): Promise<RotationLag>;
  /**
   * Records a new rotation unless the secret has an unfinished one (running or failed), which is returned
   * instead: one rotation at a time per secret, enforced by a constraint.
   */
  startRotationRun(run: RotationRunRecord): Promise<{ started: true } | { started: false; existing: RotationRunRecord }>;
  /** The secret's unfinished rotation, if any. */
  getOpenRotationRun(secretArn: string): Promise<RotationRunRecord | undefined>;
  /**
   * Takes the lease on one running rotation whose next attempt is due and whose lease is free or expired,
   * so that of several nodes exactly one drives it. Every claim adds one to the run's `leaseEpoch`, the
   * fencing token the holder names in its later writes.
   */
  claimRotationRun(now: Date, leaseOwner: string, leaseMs: number): Promise<RotationRunRecord | undefined>;

  // The holder's writes below are fenced: each applies only while the run is still running and its lease is
  // `lease` (the same owner and the epoch of that claim), and reports false otherwise. The epoch, not the
  // clock, is the fence: a holder whose lease has expired may still write until another node claims the run.

  /** Moves the lease's expiry to `expiresAt` (the holder renews while a step runs). */
  renewRotationLease(secretArn: string, token: string, lease: RotationLease, expiresAt: Date): Promise<boolean>;
  /**
   * Records the step the run has reached (the first one not yet done) and keeps the lease, so a node that
   * takes the run over continues from there.
   */
  recordRotationProgress(secretArn: string, token: string, lease: RotationLease, step: RotationStep, updatedAt: Date): Promise<boolean>;
  /** Updates a run (a failed attempt, its retry time) and releases the lease. */
  updateRotationRun(secretArn: string, token: string, lease: RotationLease, patch: RotationRunPatch): Promise<boolean>;
  /**
   * Marks a run succeeded, releases the lease and moves the secret's schedule, in one transaction; when the
   * lease is lost neither changes.
   */
  completeRotationRun(secretArn: string, token: string, lease: RotationLease, finishedAt: Date, rotation: SecretRotation): Promise<boolean>;
  /** Makes a failed or waiting run due again now (a new RotateSecret retries the unfinished rotation). */
  retryRotationRun(secretArn: string, token: string, now: Date): Promise<void>;
  /** Ends an unfinished run without completing it (CancelRotateSecret); its AWSPENDING version stays. */
  cancelRotationRun(secretArn: string, token: string, now: Date): Promise<void>;
}
