import { randomUUID } from 'node:crypto';
import { AwsError, type RequestContext } from '../core/index.js';
import type { BuiltinInvocation, InvokeOutcome } from '../functions/index.js';
import type { RotationStarter } from '../secrets/index.js';
import type { RotationRules, SecretRecord } from '../store/index.js';
import type { RotationDeps } from './deps.js';
import type { RotationEvent } from './rotator.js';
import { awsErrorCode, safeMessage } from './rotators/errors.js';
import { checkRotationFunction, createRunner, rotationContext } from './runner.js';
import { nextWindow, ScheduleError } from './schedule.js';

const DUE_BATCH = 100;
/** The access key id a built-in function's calls carry in the audit log: it signs nothing, it runs in process. */
const BUILTIN_ACCESS_KEY_ID = 'coffer-builtin-function';

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
    checkFunction: (secret: SecretRecord, lambdaArn: string) => checkRotationFunction(deps.functionExists, secret, lambdaArn),
    async start(ctx: RequestContext, secret: SecretRecord, token: string) {
      const now = ctx.clock.now();
      if (await record(secret, token, now)) {
        await deps.recordEvent({
          eventName: 'RotationStarted',
          time: now,
          secretArn: secret.arn,
          accountId: secret.accountId,
          region: secret.region,
          details: { VersionId: token },
        });
      }
      void runner.drainDue();
    },
    async retryUnfinished(secretArn: string, now: Date) {
      const open = await deps.store.getOpenRotationRun(secretArn);
      if (!open) return false;
      await deps.store.retryRotationRun(secretArn, open.token, now);
      void runner.drainDue();
      return true;
    },
    async cancelUnfinished(secretArn: string, now: Date) {
      const open = await deps.store.getOpenRotationRun(secretArn);
      if (!open) return undefined;
      await deps.store.cancelRotationRun(secretArn, open.token, now);
      return open.token;
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
      leaseEpoch: 0,
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

  /**
   * Runs one event of a `coffer-builtin` function: its rotator calls Secrets Manager as the function's
   * execution role (authorized and audited as that role's session, like a hosted function's calls). Never
   * throws; a failed step is the rotator's error code and its message (rotator messages carry no values).
   */
  async function runBuiltin(invocation: BuiltinInvocation, event: unknown): Promise<InvokeOutcome> {
    const rotator = deps.rotators[invocation.rotator];
    if (!rotator) return { ok: false, errorType: 'Runtime.InvalidEntrypoint', errorMessage: `no built-in rotator ${invocation.rotator}` };
    const ctx: RequestContext = {
      requestId: invocation.requestId,
      principal: { accountId: invocation.accountId, arn: invocation.principalArn, accessKeyId: BUILTIN_ACCESS_KEY_ID },
      region: invocation.region,
      clock: deps.clock,
      userAgent: `coffer-builtin/${invocation.rotator}`,
    };
    try {
      // Each call its own request, as each SDK call of a hosted function is.
      const call = (operation: string, input: Record<string, unknown>) =>
        deps.invokeSecretsAsFunction({ ...ctx, requestId: randomUUID(), access: { checks: 0 } }, operation, input);
      await rotator.runStep(event as RotationEvent, call);
      return { ok: true, payload: null };
    } catch (error) {
      const errorType = awsErrorCode(error) ?? (error instanceof Error ? error.name : 'Error');
      return { ok: false, errorType, errorMessage: safeMessage(error, []) };
    }
  }

  return { starter, runBuiltin, maintenance: { runDue }, idle: runner.idle };
}

export type RotationService = ReturnType<typeof createRotationService>;
