import type { RotationStep } from '../store/index.js';

/** The event Secrets Manager sends a rotation function, exactly as AWS sends it to a Lambda. */
export type RotationEvent = { SecretId: string; ClientRequestToken: string; Step: RotationStep };

/**
 * Calls a Secrets Manager operation in-process, with wire-shaped input and output (the JSON an SDK would
 * send and receive), through the same schema, authorization and audit as an HTTP request.
 */
export type SecretsCaller = (operation: string, input: Record<string, unknown>) => Promise<Record<string, any>>;

/**
 * A rotation function built into Coffer. `runStep` does one step of AWS's four-step protocol and throws
 * when the step fails; the runner records the failure and retries. Each step must be safe to repeat.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */
export interface Rotator {
  runStep(event: RotationEvent, secrets: SecretsCaller): Promise<void>;
}

/** Outcome of running a hosted or HTTP function: its result, or the error it reported. */
export type { InvokeOutcome } from '../functions/index.js';
