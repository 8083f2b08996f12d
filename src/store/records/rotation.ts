/**
 * What rotation keeps: runs.
 * Domain records, not rows (see ../records.ts).
 */

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/**
 * One rotation of one secret: which step it has reached, how often it failed, and when to try again.
 * A lease lets exactly one node drive it at a time.
 */
export type RotationRunRecord = {
  secretArn: string;
  /** The ClientRequestToken of the rotation: the VersionId of the new version. */
  token: string;
  /** running: being tried (again); failed: gave up until a new RotateSecret; cancelled by CancelRotateSecret. */
  status: 'running' | 'failed' | 'succeeded' | 'cancelled';
  step: RotationStep;
  attempts: number;
  lastError?: string;
  startedAt: Date;
  updatedAt: Date;
  nextAttemptAt: Date;
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  /**
   * The fencing token: how many times the run has been claimed (0 before the first claim). A holder's
   * writes name the epoch it claimed with, so once another node has claimed the run they are refused.
   */
  leaseEpoch: number;
};

/** What a lease holder proves it holds a run with: its owner id and the epoch its claim returned. */
export type RotationLease = { owner: string; epoch: number };

export type RotationRunPatch = Partial<Pick<RotationRunRecord, 'status' | 'step' | 'attempts' | 'lastError' | 'updatedAt' | 'nextAttemptAt'>>;
