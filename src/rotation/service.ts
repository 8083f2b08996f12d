import { AwsError, type RequestContext } from '../core/index.js';
import type { RotationStarter } from '../secrets/index.js';
import type { RotationRules, SecretRecord } from '../store/index.js';
import type { RotationDeps } from './deps.js';
import { createRunner, rotationContext } from './runner.js';
import { nextWindow, ScheduleError } from './schedule.js';

const DUE_BATCH = 100;

/**
 * The rotation service: the RotationStarter that Secrets Manager's RotateSecret calls, and the scheduler
 * that starts rotations whose window has opened. Late windows (the server was down) rotate at once rather
 * than wait for the next one: a skipped rotation is the unsafe choice.
 */
export function createRotationService(deps: RotationDeps) {
  const runner = createRunner(deps);

  const starter: RotationStarter = {
    nextWindow(rules: RotationRules, lastRotated: Date, now: Date) {
      try {
        return nextWindow(rules, lastRotated, now);
      } catch (error) {
        if (error instanceof ScheduleError) throw new AwsError('InvalidParameterException', `Invalid RotationRules: ${error.message}`);
        throw error;
      }
    },
    async start(ctx: RequestContext, secret: SecretRecord, token: string) {
      await record(secret, token, ctx.clock.now());
      void runner.drainDue();
    },
    async retry(secretArn: string, token: string, now: Date) {
      await deps.store.retryRotationRun(secretArn, token, now);
      void runner.drainDue();
    },
  };

  async function record(secret: SecretRecord, token: string, now: Date): Promise<boolean> {
    const result = await deps.store.startRotationRun({
      secretArn: secret.arn,
      token,
      status: 'running',
      step: 'createSecret',
      attempts: 0,
      startedAt: now,
      updatedAt: now,
      nextAttemptAt: now,
    });
    return result.started;
  }

  /**
   * Starts the rotations whose window has opened, as AWS does: by calling RotateSecret for the secret (in
   * process, through the same operation, authorization and audit), then drives every due run.
   */
  async function runDue(now: Date): Promise<void> {
    for (const secret of await deps.store.listSecretsDueForRotation(now, DUE_BATCH)) {
      try {
        await deps.invokeSecrets(rotationContext(secret, deps.clock), 'RotateSecret', { SecretId: secret.arn });
        deps.logger.info('scheduled rotation started', { secretArn: secret.arn });
      } catch (error) {
        deps.logger.warn('scheduled rotation could not start', { secretArn: secret.arn, error: error instanceof Error ? error.message : String(error) });
      }
    }
    await runner.drainDue();
  }

  return { starter, maintenance: { runDue }, idle: runner.idle };
}

export type RotationService = ReturnType<typeof createRotationService>;
