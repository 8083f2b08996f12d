import type { Clock, Logger, RequestContext } from '../core/index.js';
import type { RotationRepository, SecretRecord } from '../store/index.js';
import type { InvokeOutcome, Rotator } from './rotator.js';

/**
 * A rotation outcome as an audit event (CloudTrail's AwsServiceEvent): RotationStarted, RotationSucceeded,
 * RotationFailed, RotationAbandoned. `details` hold the version id, the step and an error code, never a
 * message a function wrote (it could quote a value).
 */
export type RotationAuditEvent = {
  eventName: 'RotationStarted' | 'RotationSucceeded' | 'RotationFailed' | 'RotationAbandoned';
  time: Date;
  secretArn: string;
  accountId: string;
  region: string;
  details: Record<string, string | number>;
};

/** What the rotation module needs; compose.ts wires it. */
export type RotationDeps = {
  /** Its own repository: the runs and the scheduler's due list. */
  store: RotationRepository;
  /** A secret's record by ARN, from the secrets service (`SecretsService.secretByArn`): what a run rotates. */
  secretByArn: (secretArn: string) => Promise<SecretRecord | undefined>;
  /** Secrets Manager operations in-process (pipeline `invoke`) as Secrets Manager itself, wire-shaped JSON in and out. */
  invokeSecrets: (ctx: RequestContext, operation: string, input: Record<string, unknown>) => Promise<Record<string, any>>;
  /** The same, as a function's execution role (built-in rotators): audited as that role's calls, not the service's. */
  invokeSecretsAsFunction: (ctx: RequestContext, operation: string, input: Record<string, unknown>) => Promise<Record<string, any>>;
  /** Hosted, HTTP and built-in functions, by name, in the caller's account and region. */
  invokeFunction: (ctx: RequestContext, functionName: string, event: unknown) => Promise<InvokeOutcome>;
  /** Whether a function is deployed (RotateSecret refuses one that is not). */
  functionExists: (accountId: string, region: string, name: string) => Promise<boolean>;
  /** The rotators a `coffer-builtin` function may name. */
  rotators: Record<string, Rotator>;
  /** Writes a rotation outcome to the audit log; never throws. */
  recordEvent: (event: RotationAuditEvent) => Promise<void>;
  clock: Clock;
  logger: Logger;
  /** How long a claimed run's lease lasts (default runner.ts DEFAULT_LEASE_MS, 30 s); renewed every third of it. */
  leaseMs?: number;
};
