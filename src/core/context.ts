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
};
