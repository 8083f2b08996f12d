import { randomUUID } from 'node:crypto';
import { AwsError, type RequestContext } from '../../core/index.js';
import type { RotationRules, SecretRecord } from '../../store/index.js';
import type { SecretsDeps } from '../deps.js';
import { secretsError } from '../errors.js';
import type { SecretAccess } from '../secret-access.js';
import type { SecretsInput } from '../schemas.js';
import { AWSPENDING, planNewVersion } from '../staging-labels.js';

const LAMBDA_ARN = /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/;

/**
 * RotateSecret and CancelRotateSecret: the rotation configuration lives on the secret; the rotation itself
 * is driven by the rotation module through the RotationStarter port.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
 */
export function createRotationOperations(deps: SecretsDeps, access: SecretAccess) {
  async function rotateSecret(ctx: RequestContext, input: SecretsInput<'RotateSecret'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:RotateSecret', {
      'secretsmanager:RotationLambdaARN': input.RotationLambdaARN,
    });
    const lambdaArn = input.RotationLambdaARN ?? secret.rotationLambdaArn;
    if (lambdaArn === undefined) {
      throw secretsError('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.');
    }
    if (!LAMBDA_ARN.test(lambdaArn)) {
      throw secretsError('InvalidParameterException', `RotationLambdaARN must be arn:aws:lambda:<region>:<account>:function:<name>, not ${lambdaArn}`);
    }
    await deps.rotation.checkFunction(secret, lambdaArn);
    await refuseWhileRotating(ctx, secret);
    const rules = input.RotationRules ?? secret.rotationRules;
    const now = ctx.clock.now();
    const window = rules ? scheduleWindow(rules, secret.lastRotatedDate ?? now, now) : undefined;
    // RotationEnabled is on after any RotateSecret (AWS's rotation templates check it); without rules there
    // is simply no next window, so only RotateSecret starts rotations.
    const rotation = {
      rotationEnabled: true,
      rotationLambdaArn: lambdaArn,
      rotationRules: rules,
      lastRotatedDate: secret.lastRotatedDate,
      nextRotationDate: window?.start,
      nextRotationWindowEnd: window?.end,
    };
    // Safe choice where AWS tests the function instead: RotateImmediately=false only saves the schedule.
    if (input.RotateImmediately === false) {
      await deps.store.setSecretRotation(secret.arn, rotation);
      return { ARN: secret.arn, Name: secret.name };
    }
    const token = input.ClientRequestToken ?? randomUUID();
    // The run is recorded before the AWSPENDING version is made: of two RotateSecret calls racing past the
    // check above (two nodes, or one), the loser must change nothing, or its version would take AWSPENDING
    // from the winner's, whose rotation could then never finish.
    const started = await deps.rotation.start(ctx, secret, token, async () => {
      if (!(await deps.store.setSecretRotation(secret.arn, rotation))) throw secretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      await createPendingPlaceholder(ctx, secret, token);
    });
    if (!started) throw previousRotationIncomplete();
    return { ARN: secret.arn, Name: secret.name, VersionId: token };
  }

  /** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html */
  async function cancelRotateSecret(ctx: RequestContext, input: SecretsInput<'CancelRotateSecret'>) {
    const secret = await access.authorizedWritableSecret(ctx, input.SecretId, 'secretsmanager:CancelRotateSecret');
    const cancelledToken = await deps.rotation.cancelUnfinished(secret.arn, ctx.clock.now());
    await deps.store.setSecretRotation(secret.arn, {
      rotationEnabled: false,
      rotationLambdaArn: secret.rotationLambdaArn,
      rotationRules: secret.rotationRules,
      lastRotatedDate: secret.lastRotatedDate,
    });
    return { ARN: secret.arn, Name: secret.name, VersionId: cancelledToken };
  }

  /**
   * AWS starts a rotation by creating the new version, without a value, under AWSPENDING; the rotation
   * function's createSecret finds it (DescribeSecret lists it, GetSecretValue answers ResourceNotFound) and
   * writes the value with PutSecretValue. AWS's own rotation templates refuse to run without it.
   */
  async function createPendingPlaceholder(ctx: RequestContext, secret: SecretRecord, token: string) {
    const now = ctx.clock.now();
    const placeholder = { secretArn: secret.arn, versionId: token, dataKeys: [], valueType: 'string' as const, createdDate: now };
    await deps.store.putSecretVersion(placeholder, (labels) => planNewVersion(labels, token, [AWSPENDING], now), now);
  }

  /** "A previous rotation isn't complete. That rotation will be reattempted." — and it is, now. */
  async function refuseWhileRotating(ctx: RequestContext, secret: SecretRecord) {
    if (!(await deps.rotation.retryUnfinished(secret.arn, ctx.clock.now()))) return;
    throw previousRotationIncomplete();
  }

  function previousRotationIncomplete() {
    return secretsError('InvalidRequestException', "A previous rotation isn't complete. That rotation will be reattempted.");
  }

  function scheduleWindow(rules: RotationRules, lastRotated: Date, now: Date) {
    try {
      return deps.rotation.nextWindow(rules, lastRotated, now);
    } catch (error) {
      if (error instanceof AwsError) throw error;
      throw secretsError('InvalidParameterException', `Invalid RotationRules: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  return { rotateSecret, cancelRotateSecret };
}
