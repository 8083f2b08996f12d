import type { Clock } from './clock.js';

/** Who is calling: resolved from the SigV4 access key by auth. */
export type Principal = {
  accountId: string;
  arn: string;
  accessKeyId: string;
};

/** Everything an operation may know about the call besides its input. */
export type RequestContext = {
  requestId: string;
  principal: Principal;
  region: string;
  clock: Clock;
  sourceIp?: string;
  userAgent?: string;
  /** Set when an AWS service (Secrets Manager) calls KMS on the caller's behalf: the kms:ViaService value. */
  viaService?: string;
};
