import type { Clock, Logger, RequestContext } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { InvokeOutcome, Rotator } from './rotator.js';

/** What the rotation module needs; compose.ts wires it. */
export type RotationDeps = {
  store: Pick<
    Store,
    | 'startRotationRun'
    | 'claimRotationRun'
    | 'updateRotationRun'
    | 'completeRotationRun'
    | 'retryRotationRun'
    | 'listSecretsDueForRotation'
    | 'getSecretByArn'
  >;
  /** Secrets Manager operations in-process (pipeline `invoke`), wire-shaped JSON in and out. */
  invokeSecrets: (ctx: RequestContext, operation: string, input: Record<string, unknown>) => Promise<Record<string, any>>;
  /** Hosted and HTTP functions, by name, in the caller's account and region. */
  invokeFunction: (ctx: RequestContext, functionName: string, event: unknown) => Promise<InvokeOutcome>;
  rotators: Record<string, Rotator>;
  clock: Clock;
  logger: Logger;
};
