import type { RequestContext } from '../core/index.js';
import type { RotationRules, SecretRecord } from '../store/index.js';

/**
 * What Secrets Manager needs from rotation, which itself calls Secrets Manager: the `rotation` module
 * implements this port and compose.ts wires it, so neither module imports the other's internals.
 */
export interface RotationStarter {
  /**
   * The window after which the schedule next rotates, counted from `lastRotated`. Throws an AwsError
   * (InvalidParameterException) for rules that are not a valid schedule.
   */
  nextWindow(rules: RotationRules, lastRotated: Date, now: Date): { start: Date; end: Date };
  /**
   * Refuses (AccessDeniedException, as AWS) a RotationLambdaARN that names no function deployed in the
   * secret's account and Region: Coffer could never invoke it. Called before anything changes.
   */
  checkFunction(secret: SecretRecord, lambdaArn: string): Promise<void>;
  /**
   * Starts a rotation of `secret` with `token` as its new version id, unless the secret already has an
   * unfinished one: false then, and nothing has changed. The run is recorded first, so that of concurrent
   * RotateSecret calls (on any node) the one-unfinished-run constraint lets exactly one through; it is held
   * back while `prepare` makes RotateSecret's changes to the secret (schedule, AWSPENDING version), then made
   * due and driven. When `prepare` throws, the run is cancelled and the error rethrown.
   */
  start(ctx: RequestContext, secret: SecretRecord, token: string, prepare: () => Promise<void>): Promise<boolean>;
  /** Makes the secret's unfinished rotation, if it has one, due again now; false when it has none. */
  retryUnfinished(secretArn: string, now: Date): Promise<boolean>;
  /**
   * Ends the secret's unfinished rotation, if it has one, without completing it (CancelRotateSecret; its
   * AWSPENDING version stays); returns that rotation's token, undefined when there was none.
   */
  cancelUnfinished(secretArn: string, now: Date): Promise<string | undefined>;
}
