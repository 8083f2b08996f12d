import { randomUUID } from 'node:crypto';
import { accountRootArn, commonError, parseArn, type Clock, type RequestContext } from '../core/index.js';
import { ROTATION_STEPS, type RotationRunRecord, type RotationStep, type SecretRecord } from '../store/index.js';
import type { RotationAuditEvent, RotationDeps } from './deps.js';
import { holdLease, type HeldLease } from './lease.js';
import type { RotationEvent } from './rotator.js';
import { nextWindow } from './schedule.js';

const MAX_ATTEMPTS = 5;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 30 * 60_000;
/**
 * A claimed run's lease, renewed by its holder every third of it while a step runs: short, so that when a
 * node dies mid-rotation another takes the run over within half a minute.
 */
export const DEFAULT_LEASE_MS = 30_000;
const MAX_ERROR_LENGTH = 1000;

/**
 * Drives rotations through AWS's four steps: createSecret, setSecret, testSecret, finishSecret. A run is
 * claimed with a store lease, so of several nodes one drives it; the holder renews the lease while a step
 * runs and records each step done, so a node that takes over a run whose holder died continues from the first
 * unfinished step (steps are idempotent by ClientRequestToken, so repeating the interrupted one is safe).
 * Every write of the holder is fenced by the lease's epoch: once another node has claimed the run, the old
 * holder writes nothing more. A failed step is recorded with its error and retried with exponential backoff,
 * from that step; after MAX_ATTEMPTS the run is marked failed and waits for a new RotateSecret. Nothing here
 * touches labels: the rotation function moves AWSCURRENT in finishSecret, so a failure can never lose the
 * current value.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html
 */
export function createRunner(deps: RotationDeps) {
  const leaseOwner = `rotation-${randomUUID()}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  let draining: Promise<void> = Promise.resolve();

  /** Drives every due run; calls made while a drain is under way chain after it. */
  function drainDue(): Promise<void> {
    draining = draining.then(drainOnce).catch((error) => deps.logger.error('rotation drain failed', { error: describe(error) }));
    return draining;
  }

  async function drainOnce(): Promise<void> {
    for (;;) {
      const run = await deps.store.claimRotationRun(deps.clock.now(), leaseOwner, leaseMs);
      if (!run) return;
      const holding = holdLease(deps, run, leaseOwner, leaseMs);
      try {
        await drive(run, holding);
      } finally {
        holding.stop();
      }
    }
  }

  async function drive(run: RotationRunRecord, holding: HeldLease): Promise<void> {
    const secret = await deps.secretByArn(run.secretArn);
    if (!secret?.rotationLambdaArn) return recordFailure(run, holding, run.step, new Error('the secret has no rotation function'));
    const ctx = rotationContext(secret, deps.clock);
    let currentBefore: string | undefined;
    try {
      currentBefore = currentVersion(await describeStages(ctx, secret));
    } catch (error) {
      return recordFailure(run, holding, run.step, error);
    }
    for (let index = ROTATION_STEPS.indexOf(run.step); index < ROTATION_STEPS.length; index++) {
      const step = ROTATION_STEPS[index]!;
      try {
        await runStep(ctx, secret, { SecretId: secret.arn, ClientRequestToken: run.token, Step: step });
      } catch (error) {
        return recordFailure(run, holding, step, error);
      }
      if (!(await advance(run, holding, ROTATION_STEPS[index + 1]))) return;
    }
    try {
      await assertFinished(ctx, secret, run.token, currentBefore);
    } catch (error) {
      return recordFailure(run, holding, 'finishSecret', error);
    }
    const finishedAt = deps.clock.now();
    const window = secret.rotationEnabled && secret.rotationRules ? nextWindow(secret.rotationRules, finishedAt, finishedAt) : undefined;
    const completed = await deps.store.completeRotationRun(secret.arn, run.token, holding.lease, finishedAt, {
      rotationEnabled: secret.rotationEnabled,
      rotationLambdaArn: secret.rotationLambdaArn,
      rotationRules: secret.rotationRules,
      lastRotatedDate: finishedAt,
      nextRotationDate: window?.start,
      nextRotationWindowEnd: window?.end,
    });
    if (!completed) return holding.lost();
    deps.logger.info('secret rotated', { secretArn: secret.arn, versionId: run.token });
    await audit('RotationSucceeded', secret.arn, finishedAt, { VersionId: run.token });
  }

  /**
   * Every step runs the deployed function the ARN names (zip, HTTP or built-in), in the secret's own account
   * and region; a built-in rotator is never chosen by a function's name.
   */
  async function runStep(ctx: RequestContext, secret: SecretRecord, event: RotationEvent): Promise<void> {
    const { functionName, sameAccountAndRegion } = rotationFunction(secret.rotationLambdaArn, secret);
    if (!sameAccountAndRegion) throw new StepFailure('AccessDeniedException', CANNOT_INVOKE);
    const outcome = await deps.invokeFunction(ctx, functionName, event);
    if (!outcome.ok) throw new StepFailure(outcome.errorType, `${outcome.errorType}: ${outcome.errorMessage}`);
  }

  /**
   * AWS checks that finishSecret really made the new version AWSCURRENT, and then takes AWSPENDING off it
   * (the seeds allow either; no label left behind is the tidier state for the next rotation). AWSCURRENT still
   * on the version that held it before the steps ran, with the token holding neither it nor AWSPREVIOUS (the
   * label a version keeps when AWSCURRENT leaves it), means finishSecret did not move it: a failure. Otherwise
   * a client's write (PutSecretValue, UpdateSecretVersionStage, through any node) moved it on after
   * finishSecret, possibly back where it was: the rotation is done, and running finishSecret again would take
   * AWSCURRENT back from that newer write.
   */
  async function assertFinished(ctx: RequestContext, secret: SecretRecord, token: string, currentBefore: string | undefined): Promise<void> {
    const described = await describeStages(ctx, secret);
    const stages = described[token] ?? [];
    const tokenWasCurrent = stages.includes('AWSCURRENT') || stages.includes('AWSPREVIOUS');
    if (!tokenWasCurrent && currentVersion(described) === currentBefore) {
      throw new Error(`finishSecret returned, but version ${token} is not AWSCURRENT`);
    }
    if (stages.includes('AWSPENDING')) {
      await deps.invokeSecrets(ctx, 'UpdateSecretVersionStage', { SecretId: secret.arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: token });
    }
  }

  /** VersionIdsToStages of the secret, as Secrets Manager answers DescribeSecret. */
  async function describeStages(ctx: RequestContext, secret: SecretRecord): Promise<Record<string, string[]>> {
    const described = await deps.invokeSecrets(ctx, 'DescribeSecret', { SecretId: secret.arn });
    return (described.VersionIdsToStages as Record<string, string[]> | undefined) ?? {};
  }

  /**
   * After a step succeeded: records the next one, a fenced write that also tells whether the lease is still
   * ours. False when it is not (a renewal or this write was refused): the holder stops and writes nothing more.
   */
  async function advance(run: RotationRunRecord, holding: HeldLease, next: RotationStep | undefined): Promise<boolean> {
    if (!holding.held()) return false;
    if (next === undefined) return true;
    const recorded = await deps.store.recordRotationProgress(run.secretArn, run.token, holding.lease, next, deps.clock.now());
    if (!recorded) holding.lost();
    return recorded;
  }

  /** A failed attempt, recorded (and audited) only by the lease's holder: a node that lost it writes nothing. */
  async function recordFailure(run: RotationRunRecord, holding: HeldLease, step: RotationStep, error: unknown): Promise<void> {
    if (!holding.held()) return;
    const now = deps.clock.now();
    const attempts = run.attempts + 1;
    const retryMs = Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
    const lastError = describe(error).slice(0, MAX_ERROR_LENGTH);
    const abandoned = attempts >= MAX_ATTEMPTS;
    const recorded = await deps.store.updateRotationRun(run.secretArn, run.token, holding.lease, {
      status: abandoned ? 'failed' : 'running',
      step,
      attempts,
      lastError,
      updatedAt: now,
      nextAttemptAt: new Date(now.getTime() + retryMs),
    });
    if (!recorded) return holding.lost();
    deps.logger.warn('rotation step failed', { secretArn: run.secretArn, versionId: run.token, step, attempts, error: lastError });
    const details = { VersionId: run.token, Step: step, Attempts: attempts, ErrorCode: errorCode(error) };
    await audit('RotationFailed', run.secretArn, now, details);
    if (abandoned) await audit('RotationAbandoned', run.secretArn, now, details);
  }

  /** A rotation outcome in the audit log, for the secret's account and region (read from its ARN). */
  async function audit(eventName: RotationAuditEvent['eventName'], secretArn: string, time: Date, details: RotationAuditEvent['details']) {
    const arn = parseArn(secretArn);
    await deps.recordEvent({ eventName, time, secretArn, accountId: arn?.accountId ?? '', region: arn?.region ?? '', details });
  }

  return { drainDue, idle: () => draining };
}

export type Runner = ReturnType<typeof createRunner>;

/** AWS's answer when RotateSecret names a function it cannot invoke (missing, or in another account or Region). */
export const CANNOT_INVOKE =
  'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.';

/** A step that failed with a known error code (the function's errorType, or an AWS code). */
class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * RotateSecret's check before anything changes: the function must be deployed in the secret's account and
 * Region, since Coffer cannot invoke one anywhere else. AccessDeniedException, as AWS answers.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot_rotation.html
 */
export async function checkRotationFunction(
  functionExists: RotationDeps['functionExists'],
  secret: Pick<SecretRecord, 'accountId' | 'region'>,
  lambdaArn: string,
): Promise<void> {
  const { functionName, sameAccountAndRegion } = rotationFunction(lambdaArn, secret);
  if (!sameAccountAndRegion || !(await functionExists(secret.accountId, secret.region, functionName))) {
    throw commonError('AccessDeniedException', CANNOT_INVOKE);
  }
}

/** The rotation function's name from RotationLambdaARN, and whether it lives in the secret's account and region. */
function rotationFunction(
  lambdaArn: string | undefined,
  secret: Pick<SecretRecord, 'accountId' | 'region'>,
): { functionName: string; sameAccountAndRegion: boolean } {
  const arn = parseArn(lambdaArn ?? '');
  if (!arn || arn.service !== 'lambda' || !arn.resource.startsWith('function:')) {
    throw new Error(`RotationLambdaARN ${lambdaArn} is not a Lambda function ARN`);
  }
  return {
    functionName: arn.resource.slice('function:'.length),
    sameAccountAndRegion: arn.accountId === secret.accountId && arn.region === secret.region,
  };
}

/** Rotation acts for the secret's account, through the same operations, authorization and audit as a request. */
export function rotationContext(secret: SecretRecord, clock: Clock): RequestContext {
  return {
    requestId: randomUUID(),
    principal: { accountId: secret.accountId, arn: accountRootArn(secret.accountId), accessKeyId: 'coffer-rotation' },
    region: secret.region,
    clock,
  };
}

/** An error's code for the audit log: never its message. */
function errorCode(error: unknown): string {
  if (error instanceof StepFailure) return error.code;
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'string') return (error as { code: string }).code;
  return error instanceof Error ? error.name : 'Error';
}

function describe(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? `${String((error as { code: unknown }).code)}: ` : '';
  if (error instanceof Error) return code + error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

/** The version holding AWSCURRENT in a VersionIdsToStages map. */
function currentVersion(stages: Record<string, string[]>): string | undefined {
  return Object.entries(stages).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
}
